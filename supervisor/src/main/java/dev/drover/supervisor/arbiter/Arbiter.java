package dev.drover.supervisor.arbiter;

import dev.drover.link.ExitCodes;
import dev.drover.link.LinkMessage;
import dev.drover.link.RequestTimes;
import dev.drover.supervisor.config.BindAddress;
import dev.drover.supervisor.config.ConfigError;
import dev.drover.supervisor.config.Settings;
import dev.drover.supervisor.control.WorkerLink;
import dev.drover.supervisor.leaks.MemorySeries;
import dev.drover.supervisor.metrics.MasterTallies;
import dev.drover.supervisor.metrics.SnapshotBoard;
import dev.drover.supervisor.os.ExitStatus;
import dev.drover.supervisor.os.Listener;
import dev.drover.supervisor.os.OutOfMemoryExit;
import dev.drover.supervisor.os.Spawner;
import dev.drover.supervisor.os.WorkerProcess;
import dev.drover.supervisor.policy.RecycleReason;
import dev.drover.supervisor.policy.RestartPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's loop, and the only owner of its state. Everything arrives as an {@link Event}; after each event
 * the loop starts due replacements and keeps the worker count, and on every tick it polices deadlines, memory,
 * liveness and limits ({@link Recycler}). The helpers it wires together each get only the parts they act on:
 * {@link Workers} (the table, and every spawn, signal and exit), {@link Generations}, {@link Recycler},
 * {@link Shutdown}, {@link Control}, {@link Cds} and {@link Leaks}.
 */
public final class Arbiter {

    private static final Logger log = LoggerFactory.getLogger(Arbiter.class);

    /** The loop's period for deadlines and readings; workers report STATS at the same rate. */
    static final long TICK_MS = 1000;

    /** Reads the configuration again from the sources it was first read from; for reloads. */
    public interface Reloader {
        Settings load() throws ConfigError;
    }

    /** The master's listening sockets: bound for a generation's addresses, released when no worker uses them. */
    public interface Sockets {
        /** The sockets for {@code settings}' addresses, bound now or reused; a ConfigError names the address. */
        List<Listener> acquire(Settings settings) throws ConfigError;

        void releaseAllBut(Set<BindAddress> inUse);
    }

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final LongSupplier clock;
    private final Respawns respawns;
    private final Workers workers;
    private final Shutdown shutdown;
    private final MemoryWatch memory;
    private final Recycler recycler;
    private final Spares spares;
    private final Cds cds;
    private final Generations generations;
    private final Control control;
    private final Leaks leaks = new Leaks();
    /** Reads /proc for a diagnosis the arbiter need not wait for (tens of ms on a busy machine). */
    private final ExecutorService diagnostics = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "drover-diagnostics");
        t.setDaemon(true);
        return t;
    });
    private final MasterTallies tallies = new MasterTallies();
    private final SnapshotPublisher publisher;
    private final LifecycleListener.All lifecycle = new LifecycleListener.All();

    private long nextTick;
    private Upgrade upgrade;
    private Takeover takeover;

    /** {@code runtimeDir}: the master's private runtime directory, where workers write evidence and snapshots. */
    public Arbiter(Settings settings, List<Listener> bound, Sockets sockets, Reloader reloader, Spawner spawner,
                   Path runtimeDir, LongSupplier clock) {
        this.clock = clock;
        this.respawns = new Respawns(clock);
        this.cds = new Cds(spawner, events::offer, clock);
        this.workers = new Workers(spawner, runtimeDir, clock, respawns, cds::launchFor, events::offer);
        this.shutdown = new Shutdown(workers, respawns, clock);
        this.spares = new Spares(workers);
        this.memory = new MemoryWatch(workers, Recycler::mark);
        this.recycler = new Recycler(workers, spares, memory);
        this.generations = new Generations(workers, recycler, cds, shutdown, sockets, reloader, clock,
                new Generation(1, settings, bound), tallies, lifecycle);
        shutdown.onBegin(lifecycle::stopping);
        this.control = new Control(workers, generations, memory, leaks, shutdown, clock);
        this.publisher = new SnapshotPublisher(workers, generations, shutdown, leaks, tallies);
    }

    /**
     * Lets `drover ctl upgrade` exec a new master in place ({@code launch}: how this one was started); with
     * {@code inherited}, this master is such a new one and takes over the old master's workers. Before {@link #run}.
     */
    public void upgrades(Upgrade.Launch launch, java.util.Optional<dev.drover.supervisor.upgrade.UpgradeState> inherited) {
        upgrade = new Upgrade(workers, generations, shutdown, cds, events::offer, clock, launch);
        inherited.ifPresent(state -> {
            generations.continueFrom(state.generation());
            takeover = new Takeover(state, workers, generations, clock);
            takeover.start(events::offer);
            shutdown.onBegin(why -> takeover.stop(!shutdown.quick(), shutdown.quick()
                    ? Shutdown.QUICK_STOP_TIMEOUT.toNanos() : workers.gracefulTimeout().toNanos()));
        });
        Map<String, Object> none = Map.of("upgrades", launch.upgrades(), "phase", "none");
        control.upgrades(upgrade, () -> takeover == null ? none : takeover.status());
    }

    /** Where the latest snapshot of the master is published, for /metrics, the health checks and `ctl health`. */
    public SnapshotBoard board() {
        return publisher.board();
    }

    /** Where signal handlers, Netty handlers and reader threads post; it never blocks. */
    public void post(Event event) {
        events.offer(event);
    }

    /** Adds an observer of the master's life (systemd, metrics); before {@link #run}. */
    public void addLifecycleListener(LifecycleListener listener) {
        lifecycle.add(listener);
    }

    /** Runs until the master stops; returns the master's exit code. */
    public int run() throws InterruptedException {
        start();
        while (true) {
            long now = clock.getAsLong();
            long next = Math.min(Math.min(nextTick, memory.nextReadingAt()), shutdown.delayEndsAt());
            long wait = Math.max(0, TimeUnit.NANOSECONDS.toMillis(Math.min(next - now, lifecycle.nanosUntilDue(now))));
            if (turn(events.poll(wait, TimeUnit.MILLISECONDS))) {
                return shutdown.exitCode();
            }
        }
    }

    /** Before the first turn: the clock starts, and the AppCDS archive of generation 1 is planned. */
    void start() {
        nextTick = clock.getAsLong();
        cds.prepare(generations.current());
        publisher.publish(nextTick);
    }

    /**
     * One turn of the loop: handles {@code event} (null: none came), ticks if a tick is due, then keeps the workers
     * as they should be. Returns true once the master has stopped and its last worker is gone.
     */
    boolean turn(Event event) {
        lifecycle.loopTurned(clock.getAsLong());
        boolean changed = event != null && !isRoutine(event);
        if (event != null) {
            handle(event);
        }
        if (clock.getAsLong() - nextTick >= 0) {
            tick();
            nextTick += TimeUnit.MILLISECONDS.toNanos(TICK_MS);
            changed = true;
        } else if (memory.readDue(clock.getAsLong())) {
            changed = true; // a reading between ticks (a worker near its limits) marked or killed a worker
        }
        changed |= shutdown.endDelayIfDue(clock.getAsLong());
        // What follows looks at every worker; a routine STATS (every worker, every second) changes nothing it
        // looks at, unless it made its worker due for recycling, so it waits for the next tick or event.
        if (!changed && !(event instanceof Event.LinkReceived r && markedDue(r.link()))) {
            return false;
        }
        if (shutdown.underway()) {
            boolean stopped = stopped();
            publisher.publish(clock.getAsLong());
            return stopped;
        }
        manageWorkers();
        lifecycle.workersChanged((int) workers.all().stream().filter(w -> w.is(WorkerState.SERVING)).count(),
                generations.wanted(), generations.current().number());
        publisher.publish(clock.getAsLong());
        return false;
    }

    /** For tests: every event already queued, one turn each, without waiting; returns whether the master stopped. */
    boolean runQueued() {
        for (Event event = events.poll(); event != null; event = events.poll()) {
            if (turn(event)) {
                return true;
            }
        }
        return turn(null);
    }

    private boolean stopped() {
        if (!workers.isEmpty() || (takeover != null && !takeover.done())) {
            return false;
        }
        cds.abort();
        return true;
    }

    /** Gunicorn's manage_workers(): the count, the replacements, the reload's progress, and AppCDS when idle. */
    private boolean manageWorkers() {
        generations.retireExtraWorkers();
        recycler.startReplacements(generations.current().number(), generations.wanted(),
                generations.canaryPending(), maxJvms(), clock.getAsLong());
        keepWorkerCount();
        generations.finishRollout();
        if (takeover != null) {
            takeover.manage();
        }
        cds.trainWhenIdle(workers.anyBooting());
        return false;
    }

    /** A STATS message: it only updates its worker's readings, unless it makes the worker due (see markedDue). */
    private static boolean isRoutine(Event event) {
        return event instanceof Event.LinkReceived r && r.message().type() == LinkMessage.Type.STATS;
    }

    /** Whether the worker on this link is marked for recycling and has no replacement yet. */
    private boolean markedDue(WorkerLink link) {
        WorkerHandle w = workers.byLink(link);
        return w != null && w.recycleReason() != null && w.replacement() == null;
    }

    private void handle(Event event) {
        // Java 17 has no pattern matching for switch; this chain is the dispatch table.
        if (event instanceof Event.SignalReceived s) {
            control.signal(s.name());
        } else if (event instanceof Event.WorkerExited e) {
            onExit(e.worker(), e.status());
        } else if (event instanceof Event.LinkHello h) {
            onHello(h);
        } else if (event instanceof Event.LinkReceived r) {
            onLinkMessage(r.link(), r.message());
        } else if (event instanceof Event.LinkFailed f) {
            onLinkFailed(f.link(), f.problem());
        } else if (event instanceof Event.TrainingExited t) {
            cds.onTrainingExited(t.archive(), t.status());
        } else if (event instanceof Event.ExtractionExited x) {
            cds.onExtractionExited(x.directory(), x.status());
        } else if (event instanceof Event.ControlRequest c) {
            control.answer(c.command(), c.reply());
        } else if (event instanceof Event.UpgradeChecked u) {
            upgrade.onChecked(u.status(), u.output());
        } else if (event instanceof Event.InheritedExited x && takeover != null && takeover.onExit(x.pid(), x.status())) {
            generations.releaseListeners(); // inherited sockets the new configuration does not bind are closed now
        }
    }

    /**
     * Gunicorn's murder_workers() and more: every deadline and reading, once a second. Workers near their memory
     * limits are read more often, between ticks (MemoryWatch.readDue).
     */
    private void tick() {
        long now = clock.getAsLong();
        for (WorkerHandle w : List.copyOf(workers.all())) {
            recycler.police(w, now);
            workers.killIfOverdue(w, now);
        }
        cds.tick(now);
        generations.answerOverdueWaiters(now);
        shutdown.killOverdue(now);
        if (upgrade != null) {
            upgrade.tick(now);
        }
        if (takeover != null) {
            takeover.tick(now);
        }
    }

    /**
     * Fills every empty slot: with a READY spare of the current generation if there is one (crash backoff does not
     * delay it: it is booted already), else with a new worker once backoff allows; then keeps the spares' count.
     */
    private void keepWorkerCount() {
        int generation = generations.current().number();
        boolean held = true;
        for (int id = 1; id <= generations.wanted(); id++) {
            if (workers.holdsSlot(id) || spares.promote(id, generation, null, vacancy(id))) {
                continue;
            }
            held = false;
            if (workers.mayRespawnNow()) {
                workers.spawn(id);
            }
        }
        spares.keep(generation, generations.sparesWanted(), held, maxJvms());
        workers.keepStandbys(generations.standbysWanted(), held && generations.standbysMayBoot(), maxJvms());
    }

    /**
     * The most JVMs outside a reload's surge and a memory emergency: workers + spare-workers + the larger of max-surge
     * and standby-jvms. Standby JVMs wait in the room a recycle's surge would take: a replacement adopts one (no JVM
     * more) and a new one boots only once the worker it replaced has stopped serving, so standby-jvms up to
     * max-surge keeps the bound an operator sized the host for.
     */
    private long maxJvms() {
        return generations.wanted() + generations.sparesWanted()
                + Math.max(generations.current().settings().recycle().maxSurge(), generations.standbysWanted());
    }

    /** Why slot {@code id} is empty, for a promotion's log line: its last worker's recycle reason, else a crash. */
    private String vacancy(int id) {
        WorkerHandle last = workers.lastInSlot(id);
        return last == null ? "an empty slot" : last.recycleReason() != null ? last.recycleReason().label()
                : RecycleReason.CRASH.label();
    }

    // ---- exits --------------------------------------------------------------------------------------------------

    private void onExit(WorkerHandle w, int status) {
        workers.forget(w);
        control.onWorkerGone(w);
        long now = clock.getAsLong();
        tallies.workerExited(w.pid());
        if (w.is(WorkerState.DRAINING) && w.drainStartedAt() != -1) {
            tallies.drained((now - w.drainStartedAt()) / 1e9);
        }
        Duration age = Duration.ofNanos(now - w.spawnedAt());
        boolean oom = !w.is(WorkerState.KILLED)
                && (diedOfOutOfMemory(w, status, age) || killedByKernelOom(w, status, age));
        if (w.recycleReason() != null && w.recycleReason().memory()) {
            leaks.workerGone(w, now, generations.current().settings());
        }
        String how = ExitStatus.describe(status);
        if (oom && !w.is(WorkerState.DRAINING) && !shutdown.quick()) {
            onUnplannedExit(w, how, status, age, true);
        } else if (oom) {
            return; // already being replaced, or stopping: the OutOfMemoryError line says how it ended
        } else if (w.is(WorkerState.DRAINING)) {
            log.info("{} stopped after draining ({}{}); served {} request(s) in {}", w, how,
                    workers.ceilingOutcome(w, now, status == 0), w.requests(), seconds(age));
        } else if (w.is(WorkerState.KILLED) && w.recycleReason() != RecycleReason.BOOT_TIMEOUT) {
            log.info("{} is gone ({}; recycled: {}{})", w, how, w.recycleReason().label(),
                    workers.ceilingOutcome(w, now, status == 0));
        } else if (shutdown.quick()) {
            log.info("{} stopped (quick stop; {}); served {} request(s) in {}", w, how, w.requests(), seconds(age));
        } else {
            onUnplannedExit(w, how, status, age, false);
        }
    }

    /**
     * If HotSpot ended {@code w} on an OutOfMemoryError (-XX:+ExitOnOutOfMemoryError): says so in one line, counts
     * it (unless it was draining: its planned recycle is counted already) and marks it for a leak report.
     */
    private boolean diedOfOutOfMemory(WorkerHandle w, int status, Duration age) {
        Optional<String> kind = OutOfMemoryExit.kind(status, w.process().outputTail());
        if (kind.isEmpty()) {
            return false;
        }
        String what = OutOfMemoryExit.describe(kind.get());
        log.error("{} died of {} after {} as {}, {} request(s) served (the JVM exits on OutOfMemoryError: "
                + "-XX:+ExitOnOutOfMemoryError); recycled: {}", w, what, seconds(age), w.state().label(),
                w.requests(), RecycleReason.OOM.label());
        if (!w.is(WorkerState.DRAINING)) {
            workers.count(RecycleReason.OOM);
        }
        w.diedOf(RecycleReason.OOM, what);
        return true;
    }

    /**
     * If the kernel's OOM killer killed {@code w} at memory.max of its own cgroup (a SIGKILL Drover did not send, and
     * the cgroup's oom_kill count went up): as {@link #diedOfOutOfMemory}, with reason memory-oom-kill.
     */
    private boolean killedByKernelOom(WorkerHandle w, int status, Duration age) {
        Optional<String> what = status == 128 + 9 ? w.process().kernelOomKill() : Optional.empty();
        if (what.isEmpty()) {
            return false;
        }
        log.error("{} was killed by the kernel's OOM killer after {} as {}, {} request(s) served: {}; recycled: {}", w,
                seconds(age), w.state().label(), w.requests(), what.get(), RecycleReason.MEMORY_OOM_KILL.label());
        if (!w.is(WorkerState.DRAINING)) {
            workers.count(RecycleReason.MEMORY_OOM_KILL);
        }
        w.diedOf(RecycleReason.MEMORY_OOM_KILL, "the kernel's OOM kill: " + what.get());
        return true;
    }

    private void onUnplannedExit(WorkerHandle w, String how, int status, Duration age, boolean oom) {
        boolean bootTimeout = w.is(WorkerState.KILLED);
        if (w.readyAt() == -1) {
            tallies.failedBoot();
        }
        if (!bootTimeout && status == ExitCodes.UNSUPPORTED_SERVER) {
            how = "Drover cannot drive its server: " + unsupportedServerReason(w);
            if (w.generation() == 1 && !generations.isCanary(w) && !shutdown.underway()) {
                stopOnUnsupportedServer(w, how);
                return;
            }
        }
        if (generations.isCanary(w)) {
            generations.canaryFailed(w, bootTimeout ? "boot timeout" : oom ? w.recycleWhy() : how);
            return;
        }
        if (!bootTimeout && !oom) {
            log.warn("{} died unexpectedly after {} as {}, {} request(s) served: {}", w, seconds(age),
                    w.state().label(), w.requests(), how);
            if (w.is(WorkerState.SERVING)) {
                workers.count(RecycleReason.CRASH);
            }
        }
        if (shutdown.underway()) {
            return;
        }
        if (oom && w.is(WorkerState.SERVING)) {
            respawns.memoryExit(w.sinceReady(clock.getAsLong())); // no crash backoff, unless within its boot
            return;
        }
        RestartPolicy.Verdict verdict = respawns.unplannedExit(w.is(WorkerState.SERVING) || w.is(WorkerState.SPARE),
                age, status);
        if (verdict.haltMaster()) {
            log.error("{} failed to boot, and no worker has booted yet: stopping with exit code {}. Its last output:\n  {}",
                    w, verdict.exitCode(), String.join("\n  ", w.process().outputTail()));
            shutdown.begin(false, verdict.exitCode(), "worker boot failure");
        } else if (!respawns.delay().isZero()) {
            log.warn("workers keep dying young: next spawn in {}", seconds(respawns.delay()));
        }
    }

    /**
     * The app's server cannot be driven (a second connector, the socket not adopted): a property of the app, so every
     * worker would fail alike. The master stops with exit code 4 rather than respawn it for ever.
     */
    private void stopOnUnsupportedServer(WorkerHandle w, String how) {
        log.error("{} exited with code {}: {}. Stopping with exit code {}: this app cannot run under Drover as it is. "
                + "Its last output:\n  {}", w, ExitCodes.UNSUPPORTED_SERVER, how, ExitCodes.APP_LOAD_ERROR,
                String.join("\n  ", w.process().outputTail()));
        shutdown.begin(false, ExitCodes.APP_LOAD_ERROR, "the app's server cannot be driven");
    }

    /** The worker's own words: its last "drover worker: ..." line (it prints one before it exits with code 6). */
    static String unsupportedServerReason(WorkerHandle w) {
        List<String> tail = w.process().outputTail();
        for (int i = tail.size() - 1; i >= 0; i--) {
            int at = tail.get(i).indexOf(UNSUPPORTED_PREFIX);
            if (at >= 0) {
                return tail.get(i).substring(at + UNSUPPORTED_PREFIX.length()).trim();
            }
        }
        return "the worker gave no reason in its last " + tail.size() + " line(s) of output (see its output above)";
    }

    /** How a foreign worker begins the line that says why it exits with ExitCodes.UNSUPPORTED_SERVER. */
    static final String UNSUPPORTED_PREFIX = "drover worker: ";

    // ---- control links ------------------------------------------------------------------------------------------

    /**
     * A worker attaches. A foreign worker (spawned with the socket on fd 0) says inherited=1 and gets no fds; a HELLO
     * whose flag does not match how its worker was spawned is refused like a wrong secret: the master would
     * otherwise hand sockets to a process that should have none, or leave a worker without any.
     */
    private void onHello(Event.LinkHello hello) {
        LinkMessage m = hello.hello();
        boolean inherited = "1".equals(m.fields().get("inherited"));
        WorkerHandle w = workers.attach(hello.link(), m.fields().get("id"), m.fields().get("secret"), hello.peerPid(),
                inherited);
        if (w == null) {
            log.warn("rejected a control-link connection from pid {}: id {}, inherited={} (expected: a worker this "
                    + "master spawned, with its id and secret, connecting once, saying inherited=1 exactly when it "
                    + "was spawned with the listening socket on its fd 0)", hello.peerPid(), m.fields().get("id"),
                    inherited ? 1 : 0);
            hello.link().close();
            return;
        }
        if (!inherited) {
            w.link().sendListeningSockets(w.listeners());
        }
    }

    private void onLinkMessage(WorkerLink link, LinkMessage message) {
        WorkerHandle w = workers.byLink(link);
        if (w == null) {
            log.warn("control-link message before HELLO, closing that link: {}", message);
            link.close();
            return;
        }
        try {
            switch (message.type()) {
                case READY -> onReady(w, message);
                case STATS -> onStats(w, message);
                case SNAPSHOT_DONE -> control.onSnapshotDone(w, message);
                case PROMOTED -> recycler.onPromoted(w, clock.getAsLong());
                default -> log.warn("{} sent {}, which only the master sends; ignored", w, message);
            }
        } catch (RuntimeException e) {
            log.warn("{} sent a malformed control-link message: {}; ignored", w, e.getMessage());
        }
    }

    private void onReady(WorkerHandle w, LinkMessage message) {
        long bootMs = message.number("boot_ms");
        long now = clock.getAsLong();
        w.recordReady(now);
        if (!w.is(WorkerState.BOOTING)) {
            return;
        }
        if (w.isSpare()) {
            onSpareReady(w, bootMs, now);
            return;
        }
        w.markServing();
        workers.serving(w);
        tallies.booted((now - w.spawnedAt()) / 1e9);
        respawns.workerReady();
        if (generations.canaryPending() && w.generation() == generations.current().number()) {
            generations.canaryPassed(w);
        }
        log.info("{} ready in {} ms (spawn to READY; {} ms of it in the worker's main{})", w,
                TimeUnit.NANOSECONDS.toMillis(now - w.spawnedAt()), bootMs, w.withArchive() ? "; " + cds.shortLabel(w.generation()) : "");
        recycler.onReady(w, now); // first: the worker it replaces drains at once
        // What the check needs, taken here: the handle is the arbiter thread's alone.
        String name = w.toString();
        WorkerProcess process = w.process();
        List<Listener> listeners = w.listeners();
        diagnostics.execute(() -> reportOwnListeners(name, process, listeners));
    }

    /** A spare is READY: it waits, not accepting, until a slot needs it (Spares.promote). */
    private void onSpareReady(WorkerHandle w, long bootMs, long now) {
        w.markSpareReady();
        workers.serving(w);
        tallies.booted((now - w.spawnedAt()) / 1e9);
        respawns.workerReady();
        log.info("{} ready in {} ms (spawn to READY; {} ms of it in the worker's main): waiting as a spare, not "
                + "accepting; {} spare(s) ready", w, TimeUnit.NANOSECONDS.toMillis(now - w.spawnedAt()), bootMs,
                workers.readySpares(w.generation()));
        recycler.onReady(w, now);
    }

    /**
     * An app that listens on a port of its own beside Drover's socket (a second server, a management port): what
     * arrives there bypasses Drover's draining, counting and recycling. Said once per worker, at READY, from the
     * diagnostics thread: reading the worker's fds and /proc/net/tcp took 30-70 ms beside a busy load, time the
     * arbiter spent not draining the worker this one replaces and not reading memory.
     */
    private static void reportOwnListeners(String name, WorkerProcess process, List<Listener> listeners) {
        List<String> own = process.listeningBesides(listeners);
        if (!own.isEmpty()) {
            log.warn("{} listens on {} of its own, beside Drover's socket: connections there bypass Drover (no "
                    + "draining on recycles, reloads and stops; not counted for max-requests); find what opens it (a "
                    + "second server of the app, Spring Boot's management.server.port, a JMX or debug port in "
                    + "drover.worker-jvm-options) and turn it off", name,
                    String.join(", ", own));
        }
    }

    private void onStats(WorkerHandle w, LinkMessage m) {
        long now = clock.getAsLong();
        WorkerHandle.Stats stats = new WorkerHandle.Stats(m.number("requests"), m.number("inflight"),
                m.number("connections"), m.number("loop_stall_ms"), m.number("request_stall_ms", 0),
                m.number("gc_ms"), m.number("heap_used"));
        w.recordStats(stats, new MemorySeries.Sample(w.ageMs(now), stats.requests(), w.rssBytes(),
                m.number("heap_live", -1), m.number("metaspace", -1), m.number("classes", -1),
                m.number("direct", -1), m.number("threads", -1)), now);
        tallies.workerStats(w.id(), w.pid(), RequestTimes.read(m), m.number("heap_live", -1));
        recycler.onStats(w, now);
    }

    private void onLinkFailed(WorkerLink link, String problem) {
        WorkerHandle w = workers.byLink(link);
        if (w == null) {
            log.debug("control link without a worker: {}", problem);
            link.close();
        } else if (!problem.equals("control link closed")) {
            log.warn("{}: control link: {}; ignored", w, problem);
        }
    }

    /** For tests: the table, to check what the loop did. */
    Workers workers() {
        return workers;
    }

    Generations generations() {
        return generations;
    }

    /** For tests: the code the master exits with once it has stopped. */
    int exitCode() {
        return shutdown.exitCode();
    }

    /** Durations in log lines read as HOCON writes them: 30s, 0.5s. */
    static String seconds(Duration d) {
        double s = d.toMillis() / 1000.0;
        return s == Math.rint(s) ? (long) s + "s" : String.format("%.1fs", s);
    }
}
