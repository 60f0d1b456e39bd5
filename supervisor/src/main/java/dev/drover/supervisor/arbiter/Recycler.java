package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.config.MemoryLimits;
import dev.drover.supervisor.os.ProcMemory;
import dev.drover.supervisor.policy.LivenessPolicy;
import dev.drover.supervisor.policy.RecyclePolicy;
import dev.drover.supervisor.policy.RecycleReason;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The arbiter's recycling steps, run on its thread: read each worker's memory, police boot timeouts, hangs,
 * memory and request/age limits, and carry out planned recycles surge-first: the replacement boots while the old
 * worker serves, and only its READY drains the old one, at most max-surge replacements at a time.
 */
final class Recycler {

    private static final Logger log = LoggerFactory.getLogger(Recycler.class);
    /**
     * PSS/USS (smaps_rollup) cost 1-20 ms per worker, so the periodic reading is rare: with 16 workers, one every
     * 10 s each cost the master more CPU than everything else it does when idle. `ctl status` and the recycle log
     * lines read fresh ones when they need them; limits on PSS/USS read them once RSS (always above) is over a limit.
     */
    static final long ROLLUP_PERIOD_MS = 60_000;

    /**
     * How long a worker at the hard limit may go on answering its requests in flight (CEILING): short requests are
     * answered in milliseconds, and the worker's memory is watched meanwhile (Workers.CEILING_OVERSHOOT).
     */
    static final Duration CEILING_DEADLINE = Duration.ofSeconds(1);

    private final Workers workers;
    private RecyclePolicy policy;
    private LivenessPolicy liveness;

    Recycler(Workers workers) {
        this.workers = workers;
    }

    /** Takes the limits of a generation's settings (at start and at every reload). */
    void configure(Generation generation) {
        policy = generation.recyclePolicy();
        liveness = new LivenessPolicy(generation.settings().timeout(), generation.settings().bootTimeout());
    }

    /** The per-tick steps for one worker. */
    void police(WorkerHandle w, long now) {
        long reading = readMemory(w, now);
        if (w.is(WorkerState.KILLED)) {
            if (w.underCeiling() && Workers.grewPastCeiling(w, reading, policy.memory().hardLimit())) {
                workers.killOverCeiling(w, policy.memory().metric().label() + " " + mib(reading));
            }
            return;
        }
        if (policeMemory(w, reading, now)) {
            return;
        }
        if (w.state().holdsSlot()) {
            policeLiveness(w, now);
        }
        policeLimits(w, now);
    }

    /** STATS arrived: a worker that just reached its request limit gets its replacement now, not at the next tick. */
    void onStats(WorkerHandle w, long now) {
        policeLimits(w, now);
    }

    private void policeLiveness(WorkerHandle w, long now) {
        LivenessPolicy.Verdict verdict = liveness.check(w.is(WorkerState.BOOTING), now - w.spawnedAt(),
                now - w.lastReportAt(), w.stats().loopStallMs(), w.stats().requestStallMs());
        switch (verdict) {
            case BOOT_TIMEOUT -> workers.quitThenKill(w, RecycleReason.BOOT_TIMEOUT, "not ready "
                    + Arbiter.seconds(Duration.ofNanos(now - w.spawnedAt())) + " after its spawn (drover.boot-timeout = "
                    + Arbiter.seconds(liveness.bootTimeout()) + ")");
            case HUNG -> workers.quitThenKill(w, RecycleReason.HANG, "is hung: an event loop has not checked in for "
                    + Arbiter.seconds(Duration.ofMillis(w.stats().loopStallMs())) + " (drover.timeout = "
                    + Arbiter.seconds(liveness.timeout()) + ")");
            case STUCK_REQUEST -> workers.quitThenKill(w, RecycleReason.HANG, "is hung: a request running for "
                    + w.stats().requestStallMs() + " ms (timeout " + Arbiter.seconds(liveness.timeout())
                    + ", drover.timeout): a stuck request thread; the thread dump shows its stack");
            case SILENT -> workers.quitThenKill(w, RecycleReason.HANG, "is hung: no report for "
                    + Arbiter.seconds(Duration.ofNanos(now - w.lastReportAt())) + " (drover.timeout = "
                    + Arbiter.seconds(liveness.timeout()) + ", plus " + Arbiter.seconds(LivenessPolicy.SILENCE_GRACE)
                    + " of grace for a report)");
            case ALIVE -> { }
        }
    }

    /** Returns true if the worker was killed. */
    private boolean policeMemory(WorkerHandle w, long reading, long now) {
        MemoryLimits limits = policy.memory();
        if (policy.overHardLimit(reading)) {
            workers.ceiling(w, ceilingDeadline(), reading, limits.metric().label() + " " + mib(reading)
                    + " is over drover.memory.hard-limit (" + mib(limits.hardLimit()) + "); " + vitals(w, now));
            return true;
        }
        long overSince = w.overSoftLimit(policy.overSoftLimit(reading), now);
        if (overSince != -1 && policy.softGraceExpired(overSince, now) && w.is(WorkerState.SERVING)) {
            mark(w, RecycleReason.MEMORY, limits.metric().label() + " " + mib(reading) + " has been over "
                    + "drover.memory.soft-limit (" + mib(limits.softLimit()) + ") for "
                    + Arbiter.seconds(Duration.ofNanos(now - overSince)), now);
        }
        return false;
    }

    /**
     * The time a worker at the hard limit gets to answer what it has in flight (CEILING): CEILING_DEADLINE, or
     * graceful-timeout if that is shorter.
     */
    Duration ceilingDeadline() {
        return workers.gracefulTimeout().compareTo(CEILING_DEADLINE) < 0 ? workers.gracefulTimeout() : CEILING_DEADLINE;
    }

    private void policeLimits(WorkerHandle w, long now) {
        if (!w.is(WorkerState.SERVING)) {
            return;
        }
        policy.plannedReason(w.limits(), w.requests(), now - w.spawnedAt()).ifPresent(reason -> mark(w, reason,
                reason == RecycleReason.MAX_REQUESTS
                        ? "served " + w.requests() + " requests (its limit: " + w.limits().requests() + ")"
                        : "lived " + Arbiter.seconds(Duration.ofNanos(now - w.spawnedAt())) + " (its limit: "
                                + Arbiter.seconds(Duration.ofNanos(w.limits().lifetimeNanos())) + ")", now));
    }

    void mark(WorkerHandle w, RecycleReason reason, String why, long now) {
        if (!w.markForRecycle(reason, why, now)) {
            return;
        }
        log.info("{} is due for recycling ({}): {}; {}; its replacement boots first", w, reason.label(), why,
                vitals(w, now));
    }

    /** A reload was abandoned: workers marked for it stay as they are. */
    void unmarkReload() {
        workers.all().forEach(WorkerHandle::unmarkReload);
    }

    /**
     * Starts replacements for marked workers, oldest mark first, while fewer than max-surge are booting. Workers of
     * an older generation are due for the reload; while a reload's canary boots, it is the only replacement.
     */
    void startReplacements(int generation, int wanted, boolean canaryPending, long now) {
        markForReload(generation, wanted, now);
        List<WorkerHandle> all = workers.all();
        long booting = canaryPending
                ? all.stream().filter(w -> w.generation() == generation && w.is(WorkerState.BOOTING)).count()
                : all.stream().filter(w -> w.replaces() != null && w.is(WorkerState.BOOTING)).count();
        long limit = canaryPending ? 1 : policy.maxSurge();
        List<WorkerHandle> due = all.stream().filter(w -> w.dueForReplacement() && w.id() <= wanted)
                .sorted(Comparator.comparingLong(WorkerHandle::recycleMarkedAt)).toList();
        for (WorkerHandle old : due) {
            if (booting >= limit) {
                return;
            }
            WorkerHandle replacement = workers.spawnReplacement(old);
            if (replacement == null) {
                return;
            }
            booting++;
            log.info("{} spawned to replace {} ({}); {} of {} replacement(s) booting", replacement, old,
                    old.recycleReason().label(), booting, canaryPending ? "1 (the canary)" : "max-surge " + limit);
        }
    }

    private void markForReload(int generation, int wanted, long now) {
        for (WorkerHandle w : workers.all()) {
            if (w.generation() < generation && w.is(WorkerState.SERVING) && w.id() <= wanted) {
                mark(w, RecycleReason.RELOAD, "generation " + generation + " replaces generation " + w.generation(),
                        now);
            }
        }
    }

    /** A worker became READY: if it is a replacement, the worker it replaces drains now. */
    void onReady(WorkerHandle w, long now) {
        WorkerHandle old = w.replaces();
        if (old == null) {
            return;
        }
        w.unpair();
        if (!old.is(WorkerState.SERVING)) {
            return;
        }
        log.info("{} recycled ({}): {} is serving in its place; draining; {}", old, old.recycleReason().label(),
                w, vitals(old, now));
        workers.count(old.recycleReason());
        workers.drain(old, old.recycleReason());
    }

    /**
     * Reads RSS every tick (statm, ~10 µs) and PSS/USS (smaps_rollup, 1-20 ms) only when the limits need them or
     * the status reading is older than ROLLUP_PERIOD_MS. Returns the reading the limits apply to.
     */
    private long readMemory(WorkerHandle w, long now) {
        w.recordRss(w.process().rssBytes());
        boolean needed = policy.needsRollup(w.rssBytes());
        if (needed) {
            readRollup(w, now);
        } else {
            refreshRollup(w, now, ROLLUP_PERIOD_MS);
        }
        return switch (policy.memory().metric()) {
            case RSS -> w.rssBytes();
            // Unless read just now, RSS stands in: it is never below PSS or USS, and below every limit.
            case PSS -> needed ? w.pssBytes() : w.rssBytes();
            case USS -> needed ? w.ussBytes() : w.rssBytes();
        };
    }

    /** Reads PSS and USS again if the last reading is older than {@code maxAgeMs} (status asks for fresh ones). */
    void refreshRollup(WorkerHandle w, long now, long maxAgeMs) {
        if (w.rollupReadAt() == Long.MIN_VALUE || now - w.rollupReadAt() >= TimeUnit.MILLISECONDS.toNanos(maxAgeMs)) {
            readRollup(w, now);
        }
    }

    /**
     * Reads PSS and USS, and RSS with them (statm, ~10 µs), so that a reading shown together (ctl status, a recycle
     * line) is of one moment, even for a worker younger than its first tick; a process already gone keeps its last
     * readings.
     */
    private static void readRollup(WorkerHandle w, long now) {
        ProcMemory.Rollup rollup = w.process().rollup();
        if (rollup.pssBytes() < 0) {
            return;
        }
        long rss = w.process().rssBytes();
        if (rss > 0) {
            w.recordRss(rss);
        }
        w.recordRollup(rollup.pssBytes(), rollup.ussBytes(), now);
    }

    /** What a recycle log line reports about the worker at that moment. */
    static String vitals(WorkerHandle w, long now) {
        readRollup(w, now);
        return "age " + Arbiter.seconds(Duration.ofNanos(now - w.spawnedAt())) + ", " + w.requests()
                + " requests served, rss " + mib(w.rssBytes()) + ", pss " + mib(w.pssBytes()) + ", heap used "
                + mib(w.stats().heapUsed());
    }

    static String mib(long bytes) {
        return bytes < 0 ? "?" : String.format("%.1f MiB", bytes / 1048576.0);
    }
}
