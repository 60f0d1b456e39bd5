package dev.drover.supervisor.arbiter;

import dev.drover.link.ExitCodes;
import dev.drover.link.LinkMessage;
import dev.drover.supervisor.config.ConfigError;
import dev.drover.supervisor.config.Settings;
import dev.drover.supervisor.control.WorkerLinkServer;
import dev.drover.supervisor.leaks.MemorySeries;
import dev.drover.supervisor.os.ExitStatus;
import dev.drover.supervisor.os.LibC;
import dev.drover.supervisor.os.Listener;
import dev.drover.supervisor.os.Listeners;
import dev.drover.supervisor.os.WorkerOutput;
import dev.drover.supervisor.os.WorkerSpawner;
import dev.drover.supervisor.policy.RecyclePolicy;
import dev.drover.supervisor.policy.RecycleReason;
import dev.drover.supervisor.policy.RestartPolicy;
import io.netty.channel.Channel;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's loop, and the only owner of its state. Everything arrives as an {@link Event}; after each event
 * the loop starts due replacements and keeps the worker count, and on every tick it polices deadlines, memory,
 * liveness and limits ({@link Recycler}).
 */
public final class Arbiter {

    private static final Logger log = LoggerFactory.getLogger(Arbiter.class);

    /** The loop's period for deadlines and readings; workers report STATS at the same rate. */
    static final long TICK_MS = 1000;
    /** On a quick stop (INT), how long workers get to exit before SIGKILL. */
    static final Duration QUICK_STOP_TIMEOUT = Duration.ofSeconds(2);
    /** Between SIGQUIT (the JVM prints a thread dump) and SIGKILL: time for the dump to be written. */
    static final Duration DUMP_TO_KILL = Duration.ofSeconds(1);

    /** Reads the configuration again from the sources it was first read from; for reloads. */
    public interface Reloader {
        Settings load() throws ConfigError;
    }

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final WorkerSpawner spawner;
    private final LongSupplier clock;
    private final RestartPolicy restarts = new RestartPolicy();
    private final Recycler recycler;
    private final SecureRandom random = new SecureRandom();
    private final List<WorkerHandle> workers = new ArrayList<>();
    private final Map<Channel, WorkerHandle> byLink = new HashMap<>();
    private final Map<RecycleReason, Long> recycles = new EnumMap<>(RecycleReason.class);
    private final long startedAt;
    private final Control control = new Control(this);
    private final Leaks leaks = new Leaks(this);

    private final Generations generations;
    private final Cds cds;

    private long nextTick;
    private long respawnNotBefore;
    private boolean stopping;
    /** A quick stop (INT) is under way: every worker's exit from now on is a stop, not a crash. */
    private boolean quickStop;
    private long stopDeadline;
    private int exitCode = ExitCodes.OK;

    public Arbiter(Settings settings, List<Listener> bound, Listeners listeners, Reloader reloader,
                   WorkerSpawner spawner, LongSupplier clock) {
        this.spawner = spawner;
        this.clock = clock;
        this.startedAt = clock.getAsLong();
        this.recycler = new Recycler(this);
        this.generations = new Generations(this, recycler, listeners, reloader, new Generation(1, settings, bound));
        this.cds = new Cds(this, spawner);
    }

    /** The master's private runtime directory (the link socket's), where workers write evidence and snapshots. */
    Path runtimeDir() {
        return spawner.runtimeDir();
    }

    Leaks leaks() {
        return leaks;
    }

    /** Where signal handlers, Netty handlers and reader threads post; it never blocks. */
    public void post(Event event) {
        events.offer(event);
    }

    /** Runs until the master stops; returns the master's exit code. */
    public int run() throws InterruptedException {
        nextTick = clock.getAsLong();
        cds.prepare(generations.current());
        while (true) {
            long wait = Math.max(0, TimeUnit.NANOSECONDS.toMillis(nextTick - clock.getAsLong()));
            Event event = events.poll(wait, TimeUnit.MILLISECONDS);
            boolean changed = event != null && !isRoutine(event);
            if (event != null) {
                handle(event);
            }
            if (clock.getAsLong() - nextTick >= 0) {
                tick();
                nextTick += TimeUnit.MILLISECONDS.toNanos(TICK_MS);
                changed = true;
            }
            // What follows looks at every worker; a routine STATS (every worker, every second) changes nothing it
            // looks at, unless it made its worker due for recycling, so it waits for the next tick or event.
            if (!changed && !(event instanceof Event.LinkReceived r && markedDue(r.channel()))) {
                continue;
            }
            if (stopping && workers.isEmpty()) {
                cds.abort();
                return exitCode;
            }
            if (!stopping) {
                generations.retireExtraWorkers();
                recycler.startReplacements(workers, generation(), generations.wanted(), generations.canaryPending());
                keepWorkerCount();
                generations.finishRollout();
                cds.trainWhenIdle(workers.stream().anyMatch(w -> w.state == WorkerState.BOOTING));
            }
        }
    }

    /** A STATS message: it only updates its worker's readings, unless it makes the worker due (see markedDue). */
    private static boolean isRoutine(Event event) {
        return event instanceof Event.LinkReceived r && r.message().type() == LinkMessage.Type.STATS;
    }

    /** Whether the worker on this link is marked for recycling and has no replacement yet. */
    private boolean markedDue(Channel link) {
        WorkerHandle w = byLink.get(link);
        return w != null && w.recycleReason != null && w.replacement == null;
    }

    private void handle(Event event) {
        // Java 17 has no pattern matching for switch; this chain is the dispatch table.
        if (event instanceof Event.SignalReceived s) {
            onSignal(s.name());
        } else if (event instanceof Event.WorkerExited e) {
            onExit(e.worker(), e.status());
        } else if (event instanceof Event.LinkHello h) {
            onHello(h);
        } else if (event instanceof Event.LinkReceived r) {
            onLinkMessage(r.channel(), r.message());
        } else if (event instanceof Event.LinkFailed f) {
            onLinkFailed(f.channel(), f.problem());
        } else if (event instanceof Event.TrainingExited t) {
            cds.onTrainingExited(t.archive(), t.status());
        } else if (event instanceof Event.ControlRequest c) {
            control.answer(c.command(), c.reply());
        }
    }

    private void tick() {
        long now = clock.getAsLong();
        for (WorkerHandle w : List.copyOf(workers)) {
            recycler.police(w, now);
            killIfOverdue(w, now);
        }
        cds.tick(now);
        generations.answerOverdueWaiters(now);
        if (stopping && now - stopDeadline >= 0) {
            workers.forEach(w -> sigkill(w, "did not stop in time"));
        }
    }

    // ---- signals and stopping ----------------------------------------------------------------------------------

    private void onSignal(String name) {
        control.signal(name);
    }

    String stop(boolean graceful, String source) {
        beginStop(graceful, ExitCodes.OK, source);
        return (graceful ? "graceful" : "quick") + " stop of " + workers.size() + " worker(s) under way";
    }


    /** Graceful: every worker drains within graceful-timeout. Quick: every worker gets INT and a short deadline. */
    void beginStop(boolean graceful, int code, String why) {
        if (stopping && graceful) {
            log.info("{}: already stopping", why);
            return;
        }
        stopping = true;
        quickStop |= !graceful;
        exitCode = code;
        generations.abandonWaiters("the master is stopping (" + why + ")");
        Duration timeout = graceful ? settings().gracefulTimeout() : QUICK_STOP_TIMEOUT;
        stopDeadline = clock.getAsLong() + timeout.toNanos();
        log.info("{}: {} stop of {} worker(s), at most {} ({})", why, graceful ? "graceful" : "quick", workers.size(),
                seconds(timeout), graceful ? "drover.graceful-timeout" : "quick stop");
        for (WorkerHandle w : workers) {
            if (!graceful) {
                signal(w, LibC.SIGINT);
            } else if (w.state != WorkerState.DRAINING && w.state != WorkerState.KILLED) {
                drain(w, null);
            }
        }
    }

    /**
     * Asks a worker to stop accepting and finish its requests, SIGKILL at graceful-timeout. A memory recycle also
     * asks for the worker's leak evidence (its class histogram against the baseline), for the leak report.
     */
    void drain(WorkerHandle w, RecycleReason reason) {
        if (w.state == WorkerState.SERVING && w.link != null) {
            LinkMessage.Builder drain = LinkMessage.of(LinkMessage.Type.DRAIN)
                    .put("reason", reason == null ? "stop" : reason.label());
            Path evidence = runtimeDir().resolve("evidence-" + w.pid + ".json");
            if (reason == RecycleReason.MEMORY && LinkMessage.isToken(evidence.toString())) {
                w.evidenceFile = evidence; // (a runtime directory with a space in its path gets no histogram)
                drain.put("evidence", evidence.toString());
            }
            w.link.writeAndFlush(drain.build());
        } else {
            signal(w, LibC.SIGTERM); // booting: the worker's TERM handler exits (it has nothing in flight)
        }
        w.state = WorkerState.DRAINING;
        w.killAt = clock.getAsLong() + settings().gracefulTimeout().toNanos();
    }

    /** For hangs and boot timeouts: a thread dump first (SIGQUIT, into the log), SIGKILL a moment later. */
    void quitThenKill(WorkerHandle w, RecycleReason reason, String why) {
        if (reason != RecycleReason.BOOT_TIMEOUT) {
            backOff(w); // a boot timeout is a failed start: the exit counts it (onUnplannedExit)
        }
        log.error("{} {}; {}; SIGQUIT for a thread dump, then SIGKILL; {}", w, why,
                Recycler.vitals(w, clock.getAsLong()), replacementWhen());
        signal(w, LibC.SIGQUIT);
        w.state = WorkerState.KILLED;
        w.recycleReason = reason;
        w.killAt = clock.getAsLong() + DUMP_TO_KILL.toNanos();
        count(reason);
    }

    /** For the hard memory limit: no grace, no dump; the replacement starts at once. */
    void killNow(WorkerHandle w, RecycleReason reason, String why) {
        backOff(w);
        log.error("{} killed ({}): {}; SIGKILL; {}", w, reason.label(), why, replacementWhen());
        w.state = WorkerState.KILLED;
        w.recycleReason = reason;
        w.recycleWhy = why;
        count(reason);
        sigkill(w, null);
    }

    /**
     * Hard-limit and hang kills of young workers slow the respawns down, as crashes do (RestartPolicy), so an app
     * that crosses the hard limit right after READY is not killed and respawned every second for ever. Decided at
     * the kill, because the replacement is spawned then, not when the killed JVM's exit arrives.
     */
    private void backOff(WorkerHandle w) {
        if (!stopping) {
            respawnNotBefore = restarts.forcedExit(Duration.ofNanos(clock.getAsLong() - w.spawnedAt), clock.getAsLong());
        }
    }

    private String replacementWhen() {
        Duration delay = restarts.delay();
        return delay.isZero() || stopping ? "a replacement starts now"
                : "workers keep being killed young: the replacement starts in " + seconds(delay);
    }

    void count(RecycleReason reason) {
        recycles.merge(reason, 1L, Long::sum);
    }

    private void killIfOverdue(WorkerHandle w, long now) {
        if (w.killAt != -1 && now - w.killAt >= 0) {
            sigkill(w, w.state == WorkerState.KILLED ? null : "did not finish draining within "
                    + seconds(settings().gracefulTimeout()) + " (drover.graceful-timeout)");
        }
    }

    private void sigkill(WorkerHandle w, String why) {
        if (!w.killSent) {
            if (why != null) {
                log.warn("{} {}; sending SIGKILL", w, why);
            }
            w.killSent = true;
            w.process.destroyForcibly();
        }
    }

    private void signal(WorkerHandle w, int signal) {
        if (!LibC.kill(w.pid, signal)) {
            log.debug("{}: signal {} not delivered (already gone)", w, signal);
        }
    }

    // ---- spawning and keeping the count ------------------------------------------------------------------------

    private void keepWorkerCount() {
        if (clock.getAsLong() - respawnNotBefore < 0) {
            return;
        }
        for (int id = 1; id <= generations.wanted(); id++) {
            if (!holdsSlot(id)) {
                spawn(id);
            }
        }
    }

    private boolean holdsSlot(int id) {
        for (WorkerHandle w : workers) {
            if (w.id == id && w.state.holdsSlot()) {
                return true;
            }
        }
        return false;
    }

    /** Spawns a worker for slot {@code id}; null if the JVM could not be started (logged, retried later). */
    WorkerHandle spawn(int id) {
        if (clock.getAsLong() - respawnNotBefore < 0) {
            return null;
        }
        String secret = HexFormat.of().formatHex(randomBytes());
        RecyclePolicy.Limits limits = recycler.policy().draw(random);
        Generation gen = generations.current();
        java.util.Optional<java.nio.file.Path> archive = cds.archiveFor(gen.number());
        Process process;
        try {
            process = spawner.spawn(new WorkerSpawner.Spec(id, gen.number(), secret, limits.requests(), gen.listeners(),
                    archive), gen.settings());
        } catch (IOException e) {
            log.error("cannot spawn worker {}: {}; retrying in {}", id, e.getMessage(), seconds(RestartPolicy.MAX_DELAY));
            respawnNotBefore = clock.getAsLong() + RestartPolicy.MAX_DELAY.toNanos();
            return null;
        }
        WorkerHandle w = new WorkerHandle(id, gen.number(), gen.listeners(), process, secret, clock.getAsLong(), limits);
        w.withArchive = archive.isPresent();
        w.output = WorkerOutput.follow(process, w.toString(), status -> post(new Event.WorkerExited(w, status)));
        workers.add(w);
        log.info("{} spawned", w);
        return w;
    }

    private byte[] randomBytes() {
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        return bytes;
    }

    private void onExit(WorkerHandle w, int status) {
        workers.remove(w);
        recycler.onExit(w);
        control.onWorkerGone(w);
        if (w.recycleReason == RecycleReason.MEMORY || w.recycleReason == RecycleReason.MEMORY_HARD) {
            leaks.workerGone(w, clock.getAsLong());
        }
        if (w.link != null) {
            byLink.remove(w.link);
            w.link.close();
        }
        long now = clock.getAsLong();
        Duration age = Duration.ofNanos(now - w.spawnedAt);
        String how = ExitStatus.describe(status);
        if (w.state == WorkerState.DRAINING) {
            log.info("{} stopped after draining ({}); served {} request(s) in {}", w, how, w.requests, seconds(age));
        } else if (w.state == WorkerState.KILLED && w.recycleReason != RecycleReason.BOOT_TIMEOUT) {
            log.info("{} is gone ({}; recycled: {})", w, how, w.recycleReason.label());
        } else if (quickStop) {
            log.info("{} stopped (quick stop; {}); served {} request(s) in {}", w, how, w.requests, seconds(age));
        } else {
            onUnplannedExit(w, how, status, age);
        }
    }

    private void onUnplannedExit(WorkerHandle w, String how, int status, Duration age) {
        boolean bootTimeout = w.state == WorkerState.KILLED;
        if (generations.isCanary(w)) {
            generations.canaryFailed(w, bootTimeout ? "boot timeout" : how);
            return;
        }
        if (!bootTimeout) {
            log.warn("{} died unexpectedly after {} as {}, {} request(s) served: {}", w, seconds(age), w.state.label(),
                    w.requests, how);
            if (w.state == WorkerState.SERVING) {
                count(RecycleReason.CRASH);
            }
        }
        if (stopping) {
            return;
        }
        RestartPolicy.Verdict verdict = restarts.unplannedExit(w.state == WorkerState.SERVING, age, status,
                clock.getAsLong());
        if (verdict.haltMaster()) {
            log.error("{} failed to boot, and no worker has booted yet: stopping with exit code {}. Its last output:\n  {}",
                    w, verdict.exitCode(), String.join("\n  ", w.output.tail()));
            beginStop(false, verdict.exitCode(), "worker boot failure");
            return;
        }
        respawnNotBefore = verdict.respawnNotBefore();
        if (!restarts.delay().isZero()) {
            log.warn("workers keep dying young: next spawn in {}", seconds(restarts.delay()));
        }
    }

    // ---- control links ----------------------------------------------------------------------------------------

    private void onHello(Event.LinkHello hello) {
        WorkerHandle w = find(hello.hello());
        if (w == null || w.pid != hello.peerPid() || w.link != null) {
            log.warn("rejected a control-link connection from pid {}: {} (expected: a worker this master spawned, "
                    + "with its id and secret, connecting once)", hello.peerPid(), hello.hello().fields().get("id"));
            hello.channel().close();
            return;
        }
        w.link = hello.channel();
        byLink.put(w.link, w);
        WorkerLinkServer.sendListeningSockets(w.link, w.listeners.stream().map(Listener::fd).toList());
    }

    private WorkerHandle find(LinkMessage hello) {
        String id = hello.fields().get("id");
        String secret = hello.fields().get("secret");
        for (WorkerHandle w : workers) {
            if (Integer.toString(w.id).equals(id) && w.secret.equals(secret)) {
                return w;
            }
        }
        return null;
    }

    private void onLinkMessage(Channel channel, LinkMessage message) {
        WorkerHandle w = byLink.get(channel);
        if (w == null) {
            log.warn("control-link message before HELLO, closing that link: {}", message);
            channel.close();
            return;
        }
        try {
            switch (message.type()) {
                case READY -> onReady(w, message);
                case STATS -> onStats(w, message);
                case SNAPSHOT_DONE -> control.onSnapshotDone(w, message);
                default -> log.warn("{} sent {}, which only the master sends; ignored", w, message);
            }
        } catch (RuntimeException e) {
            log.warn("{} sent a malformed control-link message: {}; ignored", w, e.getMessage());
        }
    }

    private void onReady(WorkerHandle w, LinkMessage message) {
        long bootMs = message.number("boot_ms");
        long now = clock.getAsLong();
        w.readyAt = now;
        w.lastReportAt = now;
        if (w.state != WorkerState.BOOTING) {
            return;
        }
        w.state = WorkerState.SERVING;
        restarts.workerReady();
        if (generations.canaryPending() && w.generation == generation()) {
            generations.canaryPassed(w);
        }
        log.info("{} ready in {} ms (spawn to READY; {} ms of it in the worker's main{})", w,
                TimeUnit.NANOSECONDS.toMillis(now - w.spawnedAt), bootMs, w.withArchive ? "; AppCDS" : "");
        recycler.onReady(w, now);
    }

    private void onStats(WorkerHandle w, LinkMessage m) {
        w.requests = m.number("requests");
        w.inflight = m.number("inflight");
        w.connections = m.number("connections");
        w.loopStallMs = m.number("loop_stall_ms");
        w.gcMs = m.number("gc_ms");
        w.heapUsed = m.number("heap_used");
        w.lastReportAt = clock.getAsLong();
        w.series.offer(new MemorySeries.Sample(TimeUnit.NANOSECONDS.toMillis(w.lastReportAt - w.spawnedAt), w.requests,
                w.rssBytes, m.number("heap_live", -1), m.number("metaspace", -1), m.number("classes", -1),
                m.number("direct", -1), m.number("threads", -1)));
        recycler.onStats(w, w.lastReportAt);
    }

    private void onLinkFailed(Channel channel, String problem) {
        WorkerHandle w = byLink.get(channel);
        if (w == null) {
            log.debug("control link without a worker: {}", problem);
            channel.close();
        } else if (!problem.equals("control link closed")) {
            log.warn("{}: control link: {}; ignored", w, problem);
        }
    }

    // ---- for the status answer --------------------------------------------------------------------------------

    List<WorkerHandle> workers() {
        return workers;
    }

    Map<RecycleReason, Long> recycles() {
        return recycles;
    }

    Settings settings() {
        return generations.current().settings();
    }

    int generation() {
        return generations.current().number();
    }

    Generations generations() {
        return generations;
    }

    Recycler recycler() {
        return recycler;
    }

    Cds cds() {
        return cds;
    }

    boolean stopping() {
        return stopping;
    }

    long now() {
        return clock.getAsLong();
    }

    long startedAt() {
        return startedAt;
    }

    /** Durations in log lines read as HOCON writes them: 30s, 0.5s. */
    static String seconds(Duration d) {
        double s = d.toMillis() / 1000.0;
        return s == Math.rint(s) ? (long) s + "s" : String.format("%.1fs", s);
    }
}
