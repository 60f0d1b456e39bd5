package dev.drover.worker.runtime;

import dev.drover.agent.ServerRefusedException;
import dev.drover.agent.ServerView;
import dev.drover.agent.WarmUpReport;
import dev.drover.link.ExitCodes;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.lang.management.ManagementFactory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadFactory;
import sun.misc.Signal;

/**
 * The link side of a foreign worker: an unmodified Spring Boot, Tomcat or Jetty app whose server the agent drives
 * (dev.drover.agent.ServerView). It attaches to the master, waits for the app to be ready, runs the warm-up if
 * drover.warmup asks for one, reports READY and opens the accept gate, then lives as every worker does
 * ({@link WorkerLifecycle}). It runs beside the app, on daemon threads of its own, and ends the JVM only to end the
 * worker: drained (0), the server refused (UNSUPPORTED_SERVER), the app's start failed (WORKER_BOOT_ERROR), no link
 * to the master (LINK_ERROR); a master that is gone, or SIGINT, halts it.
 */
final class ForeignWorker {

    private static final LazyLogging.Log log = LazyLogging.Log.of(ForeignWorker.class);

    private final WorkerEnv env;
    private final OwnerLoop owner = new OwnerLoop();
    /** Completed with the exit code once the worker may end: drained, or it cannot run. */
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final WorkerLifecycle life;
    /** Set by the link-side thread before anything that sends is posted to the owner. */
    private volatile MasterLink link;

    ForeignWorker(WorkerEnv env) {
        this.env = env;
        this.life = new WorkerLifecycle(env, log, owner, message -> link.send(message), System::nanoTime,
                () -> exit.complete(ExitCodes.OK));
    }

    /** Runs on the link side's thread until the worker may end; returns the exit code. */
    int run() {
        life.watchParent(ParentWatch.start(env.masterPid(), Worker.PARENT_POLL_MS,
                parent -> life.masterGone("its parent is now pid " + parent)));
        // In place of the JVM's own TERM handling (shutdown hooks at once): Spring Boot's graceful shutdown loses
        // requests on keep-alive connections; the agent's drain does not.
        Signal.handle(new Signal("TERM"), s -> owner.post(() -> life.drain("SIGTERM")));
        Signal.handle(new Signal("INT"), s -> Runtime.getRuntime().halt(ExitCodes.OK));
        try {
            attach();
        } catch (Exception e) {
            System.err.println("drover worker: cannot attach to the master at " + env.linkSocket() + ": " + e);
            return ExitCodes.LINK_ERROR;
        }
        ServerView.ready().whenComplete((server, failure) -> owner.post(() -> onReady(server, failure)));
        int code = exit.join();
        if (code == ExitCodes.OK) {
            log.info("drained: {} request(s) served; exiting", life.requests());
        }
        return code;
    }

    private void attach() throws Exception {
        EventLoopGroup linkLoop = new MultiThreadIoEventLoopGroup(1, daemonThreads("drover-link"),
                NioIoHandler.newFactory());
        owner.start(linkLoop.next()); // one loop: next() is always the same
        MasterLink attaching = new MasterLink(linkLoop, life);
        link = attaching;
        attaching.attachInherited(env);
    }

    /** On the owner thread, once the agent has the app's answer. */
    private void onReady(String server, Throwable failure) {
        if (failure != null) {
            refuse(failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure);
            return;
        }
        if (life.draining()) {
            return; // told to stop while the app started: it never accepted, so nothing is lost
        }
        if (env.warmup().enabled()) {
            // Off the owner thread: a warm-up takes up to its time limit, and a DRAIN may come meanwhile.
            CompletableFuture.runAsync(this::warmUp, ForeignWorker::warmUpThread)
                    .whenComplete((done, failed) -> owner.post(() -> accept(server)));
        } else {
            accept(server);
        }
    }

    /**
     * Requests through the app's own server before READY, over private connections the agent hands to it (never
     * the shared socket); requests begun before the accept gate opens do not count toward max-requests.
     */
    private void warmUp() {
        Warmup.Plan plan = env.warmup();
        try {
            WarmUpReport report = ServerView.warmUp(plan.count(), plan.requests(), plan.timeLimitMs());
            if (!report.skipped().isEmpty()) {
                log.warn("warm-up skipped: {}; the worker serves without one", report.skipped());
                return;
            }
            log.info("{}", new Warmup.Result(report.sent(), report.answered2xx(), report.answeredOther(),
                    report.millis(), report.stoppedBecause()).describe());
        } catch (RuntimeException e) {
            log.warn("warm-up failed: {}; the worker serves without one", e.toString());
        }
    }

    private static void warmUpThread(Runnable task) {
        Thread thread = new Thread(task, "drover-warmup");
        thread.setDaemon(true);
        thread.start();
    }

    /** On the owner thread: READY, then the gate opens. */
    private void accept(String server) {
        if (life.draining()) {
            return; // told to stop during the warm-up: it never accepted, so nothing is lost
        }
        life.serveWith(new ForeignServing());
        long bootMs = ManagementFactory.getRuntimeMXBean().getUptime();
        if (env.spare()) {
            life.readyAsSpare(bootMs, () -> {
                ServerView.startAccepting();
                return 1;
            });
            return;
        }
        life.ready(bootMs);
        ServerView.startAccepting();
        log.info("accepting: {}; JVM start to ready took {} ms", server, bootMs);
    }

    private void refuse(Throwable failure) {
        if (failure instanceof ServerRefusedException) {
            System.err.println("drover worker: " + failure.getMessage());
            exit.complete(ExitCodes.UNSUPPORTED_SERVER);
        } else {
            System.err.println("drover worker: the app " + env.appClass() + " did not start: " + failure);
            failure.printStackTrace();
            exit.complete(ExitCodes.WORKER_BOOT_ERROR);
        }
    }

    /**
     * Daemon threads (the app's own threads keep the JVM alive, never Drover's) whose context class loader is the
     * link side's: whichever thread first wakes a loop creates its thread, a signal's among them.
     */
    static ThreadFactory daemonThreads(String name) {
        ClassLoader own = ForeignWorker.class.getClassLoader();
        return new DefaultThreadFactory(name, true) {
            @Override
            protected Thread newThread(Runnable task, String threadName) {
                Thread thread = super.newThread(task, threadName);
                thread.setContextClassLoader(own);
                return thread;
            }
        };
    }
}
