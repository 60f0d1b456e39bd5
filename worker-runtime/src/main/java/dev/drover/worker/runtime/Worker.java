package dev.drover.worker.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import dev.drover.link.ExitCodes;
import dev.drover.link.LinkMessage;
import dev.drover.worker.api.DroverApp;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import sun.misc.Signal;

/**
 * One worker JVM's life (the master's view of it is dev.drover.supervisor.arbiter.WorkerHandle): attach to the
 * master, load and start the app, serve on the adopted sockets, report, drain on command, exit.
 * <p>
 * One thread owns the lifecycle state: the control link's event loop ({@link OwnerLoop}). The link's messages and the
 * STATS tick arrive there; signal handlers, the main thread once attached, the event loops that see the last
 * connection close and the evidence thread's completions post to it. The counters every event loop updates
 * (requests, in flight) stay atomics in {@link ConnectionTracker}, read by the owner.
 */
final class Worker implements MasterLink.Listener {

    private static final LazyLogging.Log log = LazyLogging.Log.of(Worker.class);

    /** How often the worker reports STATS; the master's tick has the same period. */
    static final long STATS_INTERVAL_MS = 1000;
    /** An idle worker reports every this many STATS intervals (well inside the master's silence limit). */
    static final int IDLE_REPORT_EVERY = 2;
    /** How long the master has to hand over the listening sockets. */
    static final Duration ATTACH_TIMEOUT = Duration.ofSeconds(10);
    /** Fallback for a master that died without closing the link (it always closes it; this is belt and braces). */
    static final long PARENT_POLL_MS = 500;
    /** How long a drained worker waits for its memory evidence to be written before it exits. */
    static final long EVIDENCE_TIMEOUT_MS = 20_000;
    /** How long a memory recycle's drain waits for the evidence to be written first. */
    static final long EVIDENCE_FIRST_MS = 10_000;

    private final WorkerEnv env;
    private final long mainStarted;
    private final ConnectionTracker tracker = new ConnectionTracker();
    private final OwnerLoop owner = new OwnerLoop();
    /** Counted down on the owner thread when the worker may exit; main waits for it. */
    private final CountDownLatch finished = new CountDownLatch(1);
    /**
     * Set by the attaching thread, then read by main and the owner (the attach future's get, and posting to the
     * owner, order them); the app and the boot phases are set by main before it posts the last boot step.
     */
    private EventLoopGroup httpLoops;
    private MasterLink link;
    private DroverApp app;
    /** Boot phases, for the READY line. */
    private long nativeMs;
    private long nettyMs;
    private long attachMs;
    private long appMs;
    private Warmup.Result warmup;
    /** Touched only on the owner thread. */
    private boolean draining;
    private HttpService http;
    private LoopHeartbeats heartbeats;
    private long lastTick;
    private long pausedMs;
    private CompletableFuture<Void> evidence;
    private MemoryReadings readings;
    private LeakEvidence leakEvidence;
    private ExecutorService evidenceThread;
    private boolean baselineRequested;
    private long lastReportedRequests = -1;
    private int quietTicks;
    private long readyAt;

    Worker(WorkerEnv env, long mainStarted) {
        this.env = env;
        this.mainStarted = mainStarted;
    }

    /**
     * Runs the worker to its end; returns the exit code. After Netty's native code is loaded, two things stand
     * between main() and READY that do not depend on each other, so they overlap: starting the event loops and
     * attaching to the master (a thread of its own), and loading the config, starting the app and its optional
     * warm-up (this thread). The READY line says how long each took.
     */
    int run() {
        ParentWatch.start(env.masterPid(), PARENT_POLL_MS, parent -> masterGone("its parent is now pid " + parent));
        Signal.handle(new Signal("TERM"), s -> owner.post(() -> drain("SIGTERM")));
        Signal.handle(new Signal("INT"), s -> Runtime.getRuntime().halt(ExitCodes.OK));
        // Native code first, on this thread alone: loading a native library while another thread initialises
        // JDK classes can deadlock (JDK 17: the library lock against a class-initialisation lock, seen here).
        long nativeStarted = System.nanoTime();
        loadMastersNettyNative();
        Epoll.ensureAvailability();
        nativeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nativeStarted);
        FutureTask<List<Integer>> attaching = new FutureTask<>(this::startNettyAndAttach);
        Thread attacher = new Thread(attaching, "drover-attach");
        attacher.setDaemon(true);
        attacher.start();
        long appStarted = System.nanoTime();
        Config config = loadConfig();
        try {
            app = loadApp();
        } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
            System.err.println("drover worker: cannot load app " + env.appClass() + ": " + describe(e));
            e.printStackTrace();
            return ExitCodes.APP_LOAD_ERROR;
        }
        try {
            app.start(new RuntimeContext(env.workerId(), env.generation(), ProcessHandle.current().pid(), config));
        } catch (Exception | LinkageError e) {
            System.err.println("drover worker: app " + env.appClass() + " failed to start: " + describe(e));
            e.printStackTrace();
            return ExitCodes.WORKER_BOOT_ERROR;
        }
        appMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - appStarted);
        if (env.warmup().enabled()) {
            warmup = new Warmup(app, env.warmup()).run();
        }
        // On main, after the app's start (which may log, alone) and while the attach (the longer branch) goes on.
        LazyLogging.start();
        List<Integer> fds;
        try {
            fds = attaching.get();
        } catch (ExecutionException e) {
            System.err.println("drover worker: cannot attach to the master at " + env.linkSocket() + ": " + e.getCause());
            return ExitCodes.LINK_ERROR;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.LINK_ERROR;
        }
        OptionalInt notServing = startServing(fds);
        if (notServing.isPresent()) {
            return notServing.getAsInt();
        }
        awaitFinish();
        return ExitCodes.OK;
    }

    /**
     * Hands the boot's last step ({@link #serve}) to the owner thread and waits for it: empty once the worker serves,
     * else the exit code.
     */
    private OptionalInt startServing(List<Integer> fds) {
        CompletableFuture<Boolean> serving = new CompletableFuture<>();
        owner.post(() -> {
            try {
                serving.complete(serve(fds));
            } catch (Exception e) {
                serving.completeExceptionally(e);
            }
        });
        try {
            if (serving.get()) {
                return OptionalInt.empty();
            }
            stopApp(); // told to stop while booting: it never served, so nothing is lost
            return OptionalInt.of(ExitCodes.OK);
        } catch (ExecutionException e) {
            System.err.println("drover worker: cannot accept on the inherited sockets " + fds + ": " + e.getCause());
            return OptionalInt.of(ExitCodes.LINK_ERROR);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalInt.of(ExitCodes.LINK_ERROR);
        }
    }

    /** The attaching thread: event loops, then the control link; returns the listening sockets' fds. */
    private List<Integer> startNettyAndAttach() throws Exception {
        long started = System.nanoTime();
        EventLoopGroup linkLoop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        owner.start(linkLoop.next()); // one loop: next() is always the same
        httpLoops = new MultiThreadIoEventLoopGroup(Runtime.getRuntime().availableProcessors(),
                EpollIoHandler.newFactory());
        link = new MasterLink(linkLoop, this);
        nettyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        List<Integer> fds = link.attach(env, ATTACH_TIMEOUT);
        attachMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) - nettyMs;
        return fds;
    }

    /**
     * Loads the master's copy of Netty's native library (dev.drover.supervisor.os.NettyNative), shared by all its
     * workers, before Netty's first native call: Netty then finds its methods bound and does not extract a copy of
     * its own. Any failure leaves that to Netty, as without a master.
     */
    private void loadMastersNettyNative() {
        if (env.nettyNative() == null) {
            return;
        }
        try {
            System.load(env.nettyNative().toString());
        } catch (UnsatisfiedLinkError | SecurityException e) {
            System.err.println("drover worker: cannot load the master's copy of Netty's native library ("
                    + e.getMessage() + "); Netty extracts its own");
        }
    }

    /**
     * The boot's last step, on the owner thread: adopts the sockets and reports READY, unless a drain came first (a
     * booting worker the master no longer needs): then it never accepts a connection, so none can be lost, and
     * this returns false.
     */
    private boolean serve(List<Integer> fds) throws InterruptedException {
        if (draining) {
            return false;
        }
        heartbeats = new LoopHeartbeats(httpLoops);
        if (env.maxRequests() > 0) {
            // Tell the master at once, not at the next STATS: its replacement starts booting now.
            tracker.notifyAtRequest(env.maxRequests(), () -> owner.post(this::reportStats));
        }
        http = new HttpService(httpLoops, app, tracker, env.http());
        for (int i = 0; i < fds.size(); i++) {
            http.adopt(env.listenerKinds().get(i), fds.get(i));
        }
        long bootMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - mainStarted);
        link.send(LinkMessage.of(LinkMessage.Type.READY).put("boot_ms", bootMs).build());
        lastTick = System.nanoTime();
        readyAt = lastTick;
        owner.every(STATS_INTERVAL_MS, this::tick);
        log.info("accepting on {} socket(s); main() to ready took {} ms (native {} ms, then in parallel: event loops {} ms"
                + " + attach {} ms, config + app start {} ms{})", fds.size(), bootMs, nativeMs, nettyMs, attachMs, appMs,
                warmup == null ? "" : " + " + warmup.describe());
        return true;
    }

    /**
     * Runs every STATS_INTERVAL_MS on the owner thread. Its own lateness is time the whole JVM did not run (a GC
     * pause, CPU starvation, SIGSTOP): that part of an event loop's stall is not the loop's fault.
     */
    private void tick() {
        long now = System.nanoTime();
        pausedMs = Math.max(0, TimeUnit.NANOSECONDS.toMillis(now - lastTick) - STATS_INTERVAL_MS);
        lastTick = now;
        // An idle worker (no request since its last STATS, none in flight, its loops checking in) reports every
        // IDLE_REPORT_EVERY ticks only: with many idle workers, reading STATS was most of the master's CPU.
        boolean idle = tracker.requests() == lastReportedRequests && tracker.inflight() == 0 && !draining
                && heartbeats.stallMillis() < 2 * LoopHeartbeats.BEAT_MS;
        if (!idle || ++quietTicks >= IDLE_REPORT_EVERY) {
            quietTicks = 0;
            reportStats();
        }
        if (env.evidenceBaselineMs() > 0 && !baselineRequested && !draining
                && now - readyAt >= TimeUnit.MILLISECONDS.toNanos(env.evidenceBaselineMs())) {
            baselineRequested = true; // once warm: what a leak report compares the end with
            LeakEvidence leaks = leakEvidence();
            evidenceThread().execute(() -> {
                try {
                    leaks.takeBaseline();
                    log.info("leak evidence: baseline class histogram taken, {} s after READY",
                            env.evidenceBaselineMs() / 1000.0);
                } catch (Exception e) {
                    log.warn("leak evidence: cannot take the baseline class histogram: {}", e.toString());
                }
            });
        }
    }

    private void reportStats() {
        lastReportedRequests = tracker.requests();
        Runtime rt = Runtime.getRuntime();
        MemoryReadings.Reading memory = readings().read();
        link.send(LinkMessage.of(LinkMessage.Type.STATS)
                .put("requests", tracker.requests())
                .put("inflight", tracker.inflight())
                .put("connections", tracker.connections())
                .put("loop_stall_ms", Math.max(0, heartbeats.stallMillis() - pausedMs))
                .put("gc_ms", gcMillis())
                .put("heap_used", rt.totalMemory() - rt.freeMemory())
                .put("draining", draining ? 1 : 0)
                .put("heap_live", memory.heapLive())
                .put("metaspace", memory.metaspace())
                .put("classes", memory.classes())
                .put("direct", memory.direct())
                .put("threads", memory.threads())
                .build());
    }

    private MemoryReadings readings() {
        if (readings == null) {
            readings = new MemoryReadings();
        }
        return readings;
    }

    /** Created on the owner thread, used on the evidence thread only (handing it over orders the two). */
    private LeakEvidence leakEvidence() {
        if (leakEvidence == null) {
            leakEvidence = new LeakEvidence(readings());
        }
        return leakEvidence;
    }

    /** One thread for class histograms and dumps, in order: each is a full GC, never on an event loop. */
    private ExecutorService evidenceThread() {
        if (evidenceThread == null) {
            evidenceThread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "drover-evidence");
                t.setDaemon(true);
                return t;
            });
        }
        return evidenceThread;
    }

    private static long gcMillis() {
        long total = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            total += Math.max(0, gc.getCollectionTime());
        }
        return total;
    }

    @Override
    public void onDrain(LinkMessage message) {
        String file = message.fields().get("evidence");
        String why = "the master asked: " + message.fields().getOrDefault("reason", "stop");
        if (file == null) {
            drain(why);
            return;
        }
        // Evidence for a memory recycle: what the heap holds against the baseline, before this JVM and its leak are
        // gone. Taken first, while the worker still serves as usual (its replacement is already READY): the
        // histogram's full GC pauses the JVM, and a pause in the middle of a drain could make connections look idle
        // that have a request waiting unread. The drain starts when it is written, or EVIDENCE_FIRST_MS at most.
        LeakEvidence leaks = leakEvidence();
        evidence = CompletableFuture.runAsync(() -> {
            try {
                leaks.write(Path.of(file), "recycle");
            } catch (Exception e) {
                log.warn("leak evidence: cannot write {}: {}", file, e.toString());
            }
        }, evidenceThread());
        // On a copy: orTimeout completes the future it is called on, and the exit still waits for the real one.
        evidence.copy().orTimeout(EVIDENCE_FIRST_MS, TimeUnit.MILLISECONDS)
                .whenComplete((ok, late) -> owner.post(() -> drain(why)));
    }

    @Override
    public void onSnapshot(LinkMessage message) {
        String file = message.fields().get("path");
        boolean heapDump = "heapdump".equals(message.fields().get("kind"));
        LeakEvidence leaks = leakEvidence();
        evidenceThread().execute(() -> {
            boolean ok = false;
            try {
                if (heapDump) {
                    LeakEvidence.heapDump(Path.of(file));
                } else {
                    leaks.write(Path.of(file), "snapshot");
                }
                ok = true;
            } catch (Exception | LinkageError e) {
                log.warn("{} to {} failed: {}", heapDump ? "heap dump" : "snapshot", file, e.toString());
            }
            int written = ok ? 1 : 0;
            owner.post(() -> link.send(LinkMessage.of(LinkMessage.Type.SNAPSHOT_DONE).put("path", file)
                    .put("ok", written).build()));
        });
    }

    @Override
    public void onMasterGone() {
        masterGone("control link closed");
    }

    /**
     * Never outlive the master: nobody would supervise or stop this JVM. Called on the parent watch's thread too,
     * not posted: it touches no state, and a halt must not wait behind anything.
     */
    private void masterGone(String evidence) {
        System.err.println("drover worker " + env.workerId() + ": the master (pid " + env.masterPid() + ") is gone ("
                + evidence + "); exiting");
        Runtime.getRuntime().halt(ExitCodes.OK);
    }

    /** Stop accepting, finish what is in flight, then exit. On the owner thread; a second call does nothing. */
    private void drain(String why) {
        if (draining) {
            return;
        }
        draining = true;
        if (http == null) {
            log.info("draining ({}) before serving: exiting", why);
            finished.countDown();
            return;
        }
        log.info("draining ({}): {} request(s) in flight on {} connection(s)", why, tracker.inflight(),
                tracker.connections());
        http.stopAccepting(() -> tracker.drain(() -> owner.post(this::drained)));
    }

    /** On the owner thread, once no connection is left: exit when the leak evidence is written, or too late. */
    private void drained() {
        if (evidence == null || evidence.isDone()) {
            finished.countDown();
            return;
        }
        evidence.copy().orTimeout(EVIDENCE_TIMEOUT_MS, TimeUnit.MILLISECONDS).whenComplete((ok, late) -> owner.post(() -> {
            if (late != null) {
                log.warn("leak evidence not written within {} ms; exiting without it", EVIDENCE_TIMEOUT_MS);
            }
            finished.countDown();
        }));
    }

    private void awaitFinish() {
        try {
            finished.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopApp();
        log.info("drained: {} request(s) served; exiting", tracker.requests());
    }

    private void stopApp() {
        try {
            if (app != null) {
                app.stop();
            }
        } catch (RuntimeException e) {
            log.warn("app stop() failed", e);
        }
    }

    private Config loadConfig() {
        Config file = env.configFile() == null ? ConfigFactory.empty()
                : ConfigFactory.parseFile(env.configFile().toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
        return ConfigFactory.defaultOverrides().withFallback(file).withFallback(ConfigFactory.defaultReference())
                .resolve();
    }

    private DroverApp loadApp() throws ReflectiveOperationException {
        Class<?> type = Class.forName(env.appClass(), true, Worker.class.getClassLoader());
        return (DroverApp) type.getConstructor().newInstance();
    }

    private static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? e.toString() : e + " (caused by " + root + ")";
    }
}
