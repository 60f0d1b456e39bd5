package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.control.WorkerLink;
import dev.drover.supervisor.leaks.MemorySeries;
import dev.drover.supervisor.os.Listener;
import dev.drover.supervisor.os.WorkerProcess;
import dev.drover.supervisor.policy.MemoryProjection;
import dev.drover.supervisor.policy.RecyclePolicy;
import dev.drover.supervisor.policy.RecycleReason;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The master's view of one worker JVM (the worker's own code is dev.drover.worker.runtime.Worker): its identity,
 * phase, latest readings, limits and deadlines. Its phase changes only through the transition methods, each of which
 * checks the phase it leaves. Owned by the arbiter thread; nothing else reads or writes it.
 */
final class WorkerHandle {

    /** Its slot; 0 for a spare, which takes the slot it is promoted into. */
    private int id;
    private int generation;
    private final WorkerProcess process;
    private final String secret;
    private long spawnedAt;
    private RecyclePolicy.Limits limits;
    /** The listening sockets of its generation, handed over at HELLO. */
    private final List<Listener> listeners;
    /** Spawned with the generation's AppCDS archive. */
    private boolean withArchive;
    private App app;
    /** A standby JVM: what its JVM was started as (WorkerSpawner.standbyKey), which an adopting spawn must match. */
    private String standbyKey;

    private WorkerState state = WorkerState.BOOTING;
    /** Spawned as a spare and not promoted yet. */
    private boolean spare;
    /** When it was promoted from spare; -1 = it was not. */
    private long promotedAt = -1;
    private WorkerLink link;
    private long readyAt = -1;
    /** Last READY or STATS; silence is measured from here. */
    private long lastReportAt;
    /** When the master sends SIGKILL if the worker is still there; -1 = no deadline. */
    private long killAt = -1;
    /** When it was told to drain; -1 = it was not (/metrics' drain durations). */
    private long drainStartedAt = -1;
    private boolean killSent;

    /** Why this worker is being replaced, once it is; null while it is not. */
    private RecycleReason recycleReason;
    private long recycleMarkedAt;
    /** The log's explanation of its recycle, for the leak report. */
    private String recycleWhy = "";
    /** The worker booting to take this one's place (planned recycles), and the other way round. */
    private WorkerHandle replacement;
    private WorkerHandle replaces;
    /** Since when the memory reading has been above the soft limit; -1 = it is not. */
    private long overSoftSince = -1;
    /** Where it was told to write its leak evidence (memory recycles). */
    private Path evidenceFile;
    /** When it was sent CEILING (the hard memory limit), and the time it was given; -1 = never. */
    private long ceilingAt = -1;
    private long ceilingDeadlineNanos;
    private long readingAtCeiling;
    /** Why it was SIGKILLed under the ceiling (its deadline, or memory still rising); null while it was not. */
    private String ceilingKill;

    private Stats stats = Stats.NONE;
    private long rssBytes;
    private long pssBytes;
    private long ussBytes;
    private long rollupReadAt = Long.MIN_VALUE;
    /** Its latest statm readings, for its growth rate; and when it is to be read next. */
    private final MemoryProjection projection = new MemoryProjection();
    private long nextReadingAt;
    /** Its memory over its life, for a leak report. */
    private final MemorySeries series = new MemorySeries(MemorySeries.DEFAULT_PERIOD_MS);

    /**
     * The counters of its latest STATS report; {@code requestStallMs} is the age of the oldest request in flight,
     * which only a foreign worker reports (a DroverApp's stuck handler shows as a stalled event loop instead).
     */
    record Stats(long requests, long inflight, long connections, long loopStallMs, long requestStallMs, long gcMs,
                 long heapUsed) {
        static final Stats NONE = new Stats(0, 0, 0, 0, 0, 0, 0);
    }

    /**
     * What it runs: the app as `ctl status` names it, and whether it was spawned with the listening socket as its
     * fd 0 (a jar or main-class app), so that its HELLO must say inherited=1 and gets no fds.
     */
    record App(String label, boolean inheritsSocket) {
    }

    WorkerHandle(int id, int generation, List<Listener> listeners, WorkerProcess process, String secret, long spawnedAt,
                 RecyclePolicy.Limits limits, boolean withArchive, App app) {
        this.id = id;
        this.generation = generation;
        this.listeners = listeners;
        this.process = process;
        this.secret = secret;
        this.spawnedAt = spawnedAt;
        this.limits = limits;
        this.withArchive = withArchive;
        this.app = app;
        this.lastReportAt = spawnedAt;
        this.nextReadingAt = spawnedAt;
    }

    // ---- transitions --------------------------------------------------------------------------------------------

    /** READY arrived: BOOTING to SERVING. */
    void markServing() {
        leave("mark serving", WorkerState.BOOTING);
        state = WorkerState.SERVING;
        projection.clear(); // the JVM's own start grows RSS fast: it is no leak
    }

    /** Spawned as a spare: booting, in no slot (id 0), it waits once READY. */
    void bootAsSpare() {
        leave("boot as a spare", WorkerState.BOOTING);
        spare = true;
        id = 0;
    }

    /** Spawned as a standby JVM: it waits, with no app and in no slot (id 0), until a spawn adopts it. */
    void bootAsStandby(String key) {
        leave("boot as a standby", WorkerState.BOOTING);
        state = WorkerState.STANDBY;
        standbyKey = key;
        id = 0;
    }

    /**
     * Adopted by a spawn (ADOPT): STANDBY to BOOTING as the worker in slot {@code id} (0 and {@code spare} for a
     * spare) of {@code generation}; its boot, liveness and lifetime count from {@code now}.
     */
    void adopt(int id, int generation, RecyclePolicy.Limits limits, App app, boolean spare, long now) {
        leave("adopt", WorkerState.STANDBY);
        state = WorkerState.BOOTING;
        this.id = spare ? 0 : id;
        this.spare = spare;
        this.generation = generation;
        this.limits = limits;
        this.app = app;
        this.withArchive = false;
        this.standbyKey = null;
        this.spawnedAt = now;
        this.lastReportAt = now;
        this.nextReadingAt = now;
        projection.clear();
    }

    /** A standby's WorkerSpawner.standbyKey; null for any other, and once adopted. */
    String standbyKey() {
        return standbyKey;
    }

    /** A spare's READY: BOOTING to SPARE. */
    void markSpareReady() {
        leave("mark a ready spare", WorkerState.BOOTING);
        state = WorkerState.SPARE;
        projection.clear(); // as at markServing: the JVM's own start is no leak
    }

    /** Promoted into slot {@code slot}: SPARE to SERVING; its max-lifetime counts from now. */
    void promote(int slot, long now) {
        leave("promote", WorkerState.SPARE);
        state = WorkerState.SERVING;
        spare = false;
        id = slot;
        promotedAt = now;
    }

    /** Told to stop accepting and finish (or, booting or spare, to exit); SIGKILL at {@code deadline}. */
    void startDraining(long deadline) {
        leave("start draining", WorkerState.BOOTING, WorkerState.SERVING, WorkerState.SPARE, WorkerState.STANDBY);
        state = WorkerState.DRAINING;
        killAt = deadline;
    }

    /** SIGKILL no later than {@code deadline} (a draining worker at the memory ceiling). */
    void killBy(long deadline) {
        if (killAt == -1 || deadline - killAt < 0) {
            killAt = deadline;
        }
    }

    /** Given up on (hang, boot timeout, hard memory limit): SIGKILL at {@code deadline}; its slot is free. */
    void markKilled(RecycleReason reason, String why, long deadline) {
        leave("mark killed", WorkerState.BOOTING, WorkerState.SERVING, WorkerState.DRAINING, WorkerState.SPARE,
                WorkerState.STANDBY);
        state = WorkerState.KILLED;
        recycleReason = reason;
        recycleWhy = why;
        killAt = deadline;
    }

    void drainStartedAt(long now) {
        drainStartedAt = now;
    }

    long drainStartedAt() {
        return drainStartedAt;
    }

    /** Sent CEILING at {@code now}, with {@code deadlineNanos} to answer what it has in flight. */
    void markCeiling(long now, long deadlineNanos, long reading) {
        ceilingAt = now;
        ceilingDeadlineNanos = deadlineNanos;
        readingAtCeiling = reading;
    }

    /** The memory reading that found it over the hard limit. */
    long readingAtCeiling() {
        return readingAtCeiling;
    }

    /** Under the ceiling: stopped accepting, answering what is in flight, not yet gone. */
    boolean underCeiling() {
        return ceilingAt != -1;
    }

    long ceilingAt() {
        return ceilingAt;
    }

    long ceilingDeadlineNanos() {
        return ceilingDeadlineNanos;
    }

    void ceilingKilled(String why) {
        if (ceilingKill == null) {
            ceilingKill = why;
        }
    }

    /** Why it was SIGKILLed under the ceiling, or null if it was not (it exited by itself). */
    String ceilingKill() {
        return ceilingKill;
    }

    /** Returns true the first time only: SIGKILL is sent once. */
    boolean markKillSent() {
        boolean first = !killSent;
        killSent = true;
        return first;
    }

    /** Due for a planned recycle; returns false if it already was (the first reason stands). */
    boolean markForRecycle(RecycleReason reason, String why, long now) {
        if (recycleReason != null) {
            return false;
        }
        recycleReason = reason;
        recycleWhy = why;
        recycleMarkedAt = now;
        return true;
    }

    /**
     * A memory emergency: due for a recycle ahead of any planned one. A planned mark whose replacement has not
     * started yet gives way (the emergency's replacement does its job too); one already being replaced goes on.
     * Returns false if nothing changed.
     */
    boolean markForEmergency(RecycleReason reason, String why, long now) {
        if (recycleReason != null && (recycleReason.emergency() || replacement != null)) {
            return false;
        }
        recycleReason = reason;
        recycleWhy = why;
        recycleMarkedAt = now;
        return true;
    }

    /** It ended itself for {@code reason} (an OutOfMemoryError): that is why it is replaced, whatever was planned. */
    void diedOf(RecycleReason reason, String why) {
        recycleReason = reason;
        recycleWhy = why;
    }

    /** A reload was abandoned: a worker marked for it and not yet being replaced stays as it is. */
    void unmarkReload() {
        if (recycleReason == RecycleReason.RELOAD && replacement == null) {
            recycleReason = null;
        }
    }

    /** The one place the replacement pairing is made: {@code next} boots to take this worker's place. */
    void pairWith(WorkerHandle next) {
        if (replacement != null) {
            throw new IllegalStateException(this + " is already being replaced by " + replacement
                    + "; cannot pair it with " + next + " too");
        }
        if (next.replaces != null) {
            throw new IllegalStateException(next + " already replaces " + next.replaces + "; cannot pair it with "
                    + this + " too");
        }
        replacement = next;
        next.replaces = this;
    }

    /** ...and the one place it is undone, from either side: a READY replacement, or either of them exiting. */
    void unpair() {
        if (replaces != null) {
            replaces.replacement = null; // the old worker goes on; its recycle is retried, or it drains now
            replaces = null;
        }
        if (replacement != null) {
            replacement.replaces = null; // the replacement simply takes the slot
            replacement = null;
        }
    }

    void attach(WorkerLink link) {
        if (this.link != null) {
            throw new IllegalStateException(this + " has a control link already; asked to attach a second");
        }
        this.link = link;
    }

    private void leave(String transition, WorkerState... from) {
        for (WorkerState allowed : from) {
            if (state == allowed) {
                return;
            }
        }
        throw new IllegalStateException(this + " is " + state.label() + "; cannot " + transition + " from there");
    }

    // ---- readings -----------------------------------------------------------------------------------------------

    void recordReady(long now) {
        readyAt = now;
        lastReportAt = now;
    }

    void recordStats(Stats stats, MemorySeries.Sample sample, long now) {
        this.stats = stats;
        this.lastReportAt = now;
        series.offer(sample);
    }

    void recordRss(long bytes) {
        rssBytes = bytes;
    }

    /** A statm reading at {@code now}, for the growth rate too. */
    void recordReading(long bytes, long now) {
        rssBytes = bytes;
        projection.record(now, bytes);
    }

    void scheduleReading(long at) {
        nextReadingAt = at;
    }

    void recordRollup(long pss, long uss, long now) {
        pssBytes = pss;
        ussBytes = uss;
        rollupReadAt = now;
    }

    /** Tracks since when the memory reading is over the soft limit; returns that moment, or -1. */
    long overSoftLimit(boolean over, long now) {
        overSoftSince = !over ? -1 : overSoftSince == -1 ? now : overSoftSince;
        return overSoftSince;
    }

    void expectEvidence(Path file) {
        evidenceFile = file;
    }

    // ---- reading it ---------------------------------------------------------------------------------------------

    int id() {
        return id;
    }

    int generation() {
        return generation;
    }

    long pid() {
        return process.pid();
    }

    WorkerProcess process() {
        return process;
    }

    boolean hasSecret(String candidate) {
        return secret.equals(candidate);
    }

    long spawnedAt() {
        return spawnedAt;
    }

    /** Whether it was spawned as a spare and is not promoted yet (booting or ready). */
    boolean isSpare() {
        return spare;
    }

    /**
     * Since when it serves in its slot, for max-lifetime: its promotion for a former spare (it served nothing
     * before), else its spawn.
     */
    long servingSince() {
        return promotedAt != -1 ? promotedAt : spawnedAt;
    }

    long ageMs(long now) {
        return TimeUnit.NANOSECONDS.toMillis(now - spawnedAt);
    }

    RecyclePolicy.Limits limits() {
        return limits;
    }

    List<Listener> listeners() {
        return listeners;
    }

    boolean withArchive() {
        return withArchive;
    }

    App app() {
        return app;
    }

    WorkerState state() {
        return state;
    }

    boolean is(WorkerState s) {
        return state == s;
    }

    WorkerLink link() {
        return link;
    }

    long readyAt() {
        return readyAt;
    }

    /** Time since its READY, or null if it has not been READY. */
    Duration sinceReady(long now) {
        return readyAt == -1 ? null : Duration.ofNanos(now - readyAt);
    }

    long lastReportAt() {
        return lastReportAt;
    }

    long killAt() {
        return killAt;
    }

    RecycleReason recycleReason() {
        return recycleReason;
    }

    String recycleWhy() {
        return recycleWhy;
    }

    long recycleMarkedAt() {
        return recycleMarkedAt;
    }

    WorkerHandle replacement() {
        return replacement;
    }

    WorkerHandle replaces() {
        return replaces;
    }

    /** Marked for a planned recycle, serving, and without a replacement yet. */
    boolean dueForReplacement() {
        return recycleReason != null && replacement == null && state == WorkerState.SERVING;
    }

    Path evidenceFile() {
        return evidenceFile;
    }

    Stats stats() {
        return stats;
    }

    long requests() {
        return stats.requests();
    }

    long rssBytes() {
        return rssBytes;
    }

    long pssBytes() {
        return pssBytes;
    }

    long ussBytes() {
        return ussBytes;
    }

    MemoryProjection projection() {
        return projection;
    }

    long nextReadingAt() {
        return nextReadingAt;
    }

    long rollupReadAt() {
        return rollupReadAt;
    }

    MemorySeries series() {
        return series;
    }

    /** How every log line names a worker: {@code worker 2 (pid 41872, gen 3)}, or {@code spare (pid 41873, gen 3)}. */
    @Override
    public String toString() {
        if (standbyKey != null) {
            return "standby JVM (pid " + process.pid() + ")";
        }
        return (spare ? "spare" : "worker " + id) + " (pid " + process.pid() + ", gen " + generation + ")";
    }
}
