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
import io.netty.util.concurrent.EventExecutor;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
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
 * (requests, in flight) stay atomics in {@link ConnectionTracker}, read by the owner. What happens once it serves
 * (STATS, drain, leak evidence) is {@link WorkerLifecycle}'s, shared with the foreign worker.
 */
final class Worker {

    private static final LazyLogging.Log log = LazyLogging.Log.of(Worker.class);

    /*
     * A standby JVM's priming is counted in work, not in time: on a machine busy serving, a standby gets a fraction of
     * a core, and a time limit of 1 s per step let it run 150-450 of these requests where an idle one ran 8,000, so the
     * workers it became compiled the HTTP path on the clock, under load (docs/BENCHMARKS.md, "Standby priming counted
     * in work"). The work takes the same CPU either way (a standby's boot and priming: ~4 CPU s on 2 cores); the
     * limits below only end priming that could never finish, and an ADOPT ends every step at once.
     */
    /** How often a standby JVM runs its HTTP path before it waits, and its safety limit (HttpPrimer). */
    static final int STANDBY_PRIMES = 5_000;
    static final long STANDBY_PRIME_LIMIT_MS = 15_000;
    /** How many requests a standby JVM answers over loopback before it waits, and its safety limit (HttpPrimer). */
    static final int STANDBY_LOOPBACK_PRIMES = 3_000;
    static final long STANDBY_LOOPBACK_LIMIT_MS = 15_000;
    /** How often a standby reads a config before it waits, and its safety limit (ConfigPrimer). */
    static final int STANDBY_CONFIG_READS = 30;
    static final long STANDBY_CONFIG_LIMIT_MS = 3_000;
    /** How long the master has to hand over the listening sockets. */
    static final Duration ATTACH_TIMEOUT = Duration.ofSeconds(10);
    /** Fallback for a master that died without closing the link (it always closes it; this is belt and braces). */
    static final long PARENT_POLL_MS = 500;

    /** As spawned; a standby JVM's becomes the adopted worker's at ADOPT (set on main before the app starts). */
    private WorkerEnv env;
    /** When main() started; for a standby JVM, when it was adopted. READY's boot_ms counts from here. */
    private long mainStarted;
    private final ConnectionTracker tracker = new ConnectionTracker();
    private final OwnerLoop owner = new OwnerLoop();
    /** Counted down on the owner thread when the worker may exit; main waits for it. */
    private final CountDownLatch finished = new CountDownLatch(1);
    /** STATS, the drain, leak evidence: what the native worker shares with the foreign one. */
    private final WorkerLifecycle life;
    /**
     * Set by the attaching thread, then read by main and the owner (the attach future's get, and posting to the
     * owner, order them); the app and the boot phases are set by main before it posts the last boot step.
     */
    private EventLoopGroup httpLoops;
    private MasterLink link;
    private DroverApp app;
    /** Where the app's classes come from: the JVM's class path, or a loader over a standby's adopted classpath. */
    private ClassLoader appLoader = Worker.class.getClassLoader();
    /** A standby JVM the master adopted: its boot counts from the ADOPT. */
    private boolean adopted;
    /** Boot phases, for the READY line. */
    private long nativeMs;
    private long nettyMs;
    private long attachMs;
    private long appMs;
    private Warmup.Result warmup;

    Worker(WorkerEnv env, long mainStarted) {
        this.env = env;
        this.mainStarted = mainStarted;
        this.life = new WorkerLifecycle(env, log, owner, message -> link.send(message), System::nanoTime,
                finished::countDown);
    }

    /**
     * Runs the worker to its end; returns the exit code. After Netty's native code is loaded, three things stand
     * between main() and READY that do not depend on each other, so they overlap: starting the event loops and
     * attaching to the master (a thread of its own); starting logging, then priming the HTTP path (HttpPrimer; a
     * thread of its own); and loading the config, then, once logging is up, starting the app and its optional
     * warm-up (this thread). The READY line says how long the attach and the app took.
     */
    int run() {
        life.watchParent(ParentWatch.start(env.masterPid(), PARENT_POLL_MS,
                parent -> life.masterGone("its parent is now pid " + parent)));
        Signal.handle(new Signal("TERM"), s -> owner.post(() -> life.drain("SIGTERM")));
        Signal.handle(new Signal("INT"), s -> Runtime.getRuntime().halt(ExitCodes.OK));
        // Native code first, on this thread alone: loading a native library while another thread initialises
        // JDK classes can deadlock (JDK 17: the library lock against a class-initialisation lock, seen here).
        long nativeStarted = System.nanoTime();
        if (env.nettyNative() != null) {
            LazyLogging.beforeNettyNative(this::loadMastersNettyNative);
        }
        Epoll.ensureAvailability();
        nativeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nativeStarted);
        FutureTask<List<Integer>> attaching = new FutureTask<>(this::startNettyAndAttach);
        startDaemon(attaching, "drover-attach");
        FutureTask<Void> logging = new FutureTask<>(LazyLogging::startLogback, null);
        FutureTask<Integer> priming = new FutureTask<>(() -> HttpPrimer.prime(env.http()));
        startDaemon(() -> {
            logging.run();
            priming.run();
        }, "drover-boot");
        if (env.standby()) {
            OptionalInt stopped = awaitAdoption(attaching, logging, priming);
            if (stopped.isPresent()) {
                return stopped.getAsInt();
            }
        }
        long appStarted = System.nanoTime();
        Config config = loadConfig();
        // Logging is started before any of the app's code runs, which may log (see LazyLogging.start).
        awaitBootStep(logging, "start logging");
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
        awaitBootStep(priming, "prime the HTTP path");
        appLoaderOnEventLoops();
        OptionalInt notServing = startServing(fds);
        if (notServing.isPresent()) {
            return notServing.getAsInt();
        }
        awaitFinish();
        return ExitCodes.OK;
    }

    /**
     * A standby JVM (drover.standby-jvms): everything of the boot that needs no app runs to its end (Netty, the
     * attach and the sockets, logging, the HTTP path primed), then it waits for the master's ADOPT, which says which
     * worker it is to be and where its app is. Empty once adopted (the boot goes on with the app from there), else
     * the exit code: 0 if told to stop first.
     */
    private OptionalInt awaitAdoption(FutureTask<List<Integer>> attaching, FutureTask<Void> logging,
                                      FutureTask<Integer> priming) {
        awaitBootStep(logging, "start logging");
        awaitBootStep(priming, "prime the HTTP path");
        try {
            attaching.get();
        } catch (ExecutionException e) {
            System.err.println("drover worker: cannot attach to the master at " + env.linkSocket() + ": " + e.getCause());
            return OptionalInt.of(ExitCodes.LINK_ERROR);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalInt.of(ExitCodes.LINK_ERROR);
        }
        long booted = System.nanoTime();
        int primed = HttpPrimer.primeRepeatedly(env.http(), STANDBY_PRIMES, STANDBY_PRIME_LIMIT_MS,
                life.adoption()::isDone);
        int overLoopback = HttpPrimer.primeOverLoopback(httpLoops, env.http(), STANDBY_LOOPBACK_PRIMES,
                STANDBY_LOOPBACK_LIMIT_MS, life.adoption()::isDone);
        long httpPrimed = System.nanoTime();
        int configsRead = ConfigPrimer.primeRepeatedly(STANDBY_CONFIG_READS, STANDBY_CONFIG_LIMIT_MS,
                life.adoption()::isDone);
        boolean readingsLoaded = !life.adoption().isDone();
        if (readingsLoaded) {
            new MemoryReadings().read(); // the platform MXBeans the first STATS reads (40-60 ms of class loading)
        }
        long standbySince = System.nanoTime();
        log.info("standby: booted without an app in {} ms, then its HTTP path run {} times in process and {} times over "
                + "loopback in {} ms and a config read {} times{} in {} ms; waiting for the master's ADOPT",
                TimeUnit.NANOSECONDS.toMillis(booted - mainStarted), primed, overLoopback,
                TimeUnit.NANOSECONDS.toMillis(httpPrimed - booted), configsRead,
                readingsLoaded ? " and the memory readings loaded" : "",
                TimeUnit.NANOSECONDS.toMillis(standbySince - httpPrimed));
        LinkMessage adopt;
        try {
            adopt = life.adoption().get();
        } catch (ExecutionException | InterruptedException e) {
            return OptionalInt.of(ExitCodes.LINK_ERROR);
        }
        if (adopt == null) {
            return OptionalInt.of(ExitCodes.OK); // told to stop while no app ran: nothing to lose
        }
        try {
            env = env.adopted(adopt);
        } catch (RuntimeException e) {
            System.err.println("drover worker: a malformed ADOPT from the master (" + adopt + "): " + e);
            return OptionalInt.of(ExitCodes.LINK_ERROR);
        }
        life.adopt(env);
        adopted = true;
        mainStarted = System.nanoTime();
        appLoader = appLoader(env.appClasspath());
        Thread.currentThread().setContextClassLoader(appLoader);
        log.info("adopted as worker {} of generation {} after {} ms as a standby; starting app {}", env.workerId(),
                env.generation(), TimeUnit.NANOSECONDS.toMillis(mainStarted - standbySince), env.appClass());
        return OptionalInt.empty();
    }

    /**
     * The app's loader in an adopted standby: its jars and directories over the runtime's loader, which the app's
     * classes see first as a flat class path would put the runtime first (the DroverApp API, Netty, logging).
     */
    private static ClassLoader appLoader(List<Path> classpath) {
        if (classpath.isEmpty()) {
            return Worker.class.getClassLoader();
        }
        URL[] urls = new URL[classpath.size()];
        for (int i = 0; i < urls.length; i++) {
            try {
                urls[i] = classpath.get(i).toUri().toURL();
            } catch (MalformedURLException e) {
                throw new IllegalArgumentException("classpath entry " + classpath.get(i) + ": " + e.getMessage(), e);
            }
        }
        return new URLClassLoader("drover-app", urls, Worker.class.getClassLoader());
    }

    /** The HTTP event loops run the app's handlers: they see its loader as their context class loader. */
    private void appLoaderOnEventLoops() {
        if (appLoader == Worker.class.getClassLoader()) {
            return;
        }
        ClassLoader loader = appLoader;
        for (EventExecutor loop : httpLoops) {
            loop.execute(() -> Thread.currentThread().setContextClassLoader(loader));
        }
    }

    private static void startDaemon(Runnable task, String name) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Waits for a step of the boot that runs beside main. A failure is reported and the boot goes on: neither step
     * is needed to serve (logging then starts on its first message; the first request pays what priming would have).
     */
    private static void awaitBootStep(FutureTask<?> step, String what) {
        try {
            step.get();
        } catch (ExecutionException e) {
            System.err.println("drover worker: could not " + what + " during the boot (going on): " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
        link = new MasterLink(linkLoop, life);
        nettyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        List<Integer> fds = link.attach(env, ATTACH_TIMEOUT);
        attachMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) - nettyMs;
        return fds;
    }

    /**
     * Loads the master's copy of Netty's native library (dev.drover.supervisor.os.NettyNative), shared by all its
     * workers, from inside Netty's own initialisation of it (LazyLogging.beforeNettyNative): Netty then finds its
     * methods bound and does not extract a copy of its own. Any failure leaves that to Netty, as without a master.
     */
    private void loadMastersNettyNative() {
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
        if (life.draining()) {
            return false;
        }
        LoopHeartbeats heartbeats = new LoopHeartbeats(httpLoops);
        HttpService http = new HttpService(httpLoops, app, tracker, env.http());
        life.serveWith(new NativeServing(http, tracker, heartbeats));
        long bootMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - mainStarted);
        if (env.spare()) {
            life.readyAsSpare(bootMs, () -> adoptOrExit(http, fds));
            return true;
        }
        adopt(http, fds);
        life.ready(bootMs);
        if (adopted) {
            log.info("accepting on {} socket(s); ADOPT to ready took {} ms (config + app start {} ms{})", fds.size(),
                    bootMs, appMs, warmup == null ? "" : " + " + warmup.describe());
            return true;
        }
        log.info("accepting on {} socket(s); main() to ready took {} ms (native {} ms, then in parallel: event loops {} ms"
                + " + attach {} ms, config + logging + app start {} ms{})", fds.size(), bootMs, nativeMs, nettyMs, attachMs, appMs,
                warmup == null ? "" : " + " + warmup.describe());
        return true;
    }

    private void adopt(HttpService http, List<Integer> fds) throws InterruptedException {
        for (int i = 0; i < fds.size(); i++) {
            http.adopt(env.listenerKinds().get(i), fds.get(i));
        }
    }

    /** A spare's promotion: a socket it cannot accept on is the same failure as at the boot (LINK_ERROR). */
    private int adoptOrExit(HttpService http, List<Integer> fds) {
        try {
            adopt(http, fds);
            return fds.size();
        } catch (InterruptedException | RuntimeException e) {
            System.err.println("drover worker: cannot accept on the inherited sockets " + fds + ": " + e);
            Runtime.getRuntime().halt(ExitCodes.LINK_ERROR);
            return 0;
        }
    }

    private void awaitFinish() {
        try {
            finished.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopApp();
        log.info("drained: {} request(s) served; exiting", life.requests());
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
        Class<?> type = Class.forName(env.appClass(), true, appLoader);
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
