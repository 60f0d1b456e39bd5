package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.policy.LivenessPolicy;
import dev.drover.supervisor.policy.RecyclePolicy;
import dev.drover.supervisor.policy.RecycleReason;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The arbiter's recycling steps, run on its thread: police each worker's memory (MemoryWatch), boot timeout,
 * liveness and request/age limits, and carry out planned recycles surge-first: the replacement boots (or a spare is
 * promoted) while the old worker serves, and only its READY drains the old one, at most max-surge at a time.
 */
final class Recycler {

    private static final Logger log = LoggerFactory.getLogger(Recycler.class);
    private final Workers workers;
    private final Spares spares;
    private final MemoryWatch memory;
    private RecyclePolicy policy;
    private LivenessPolicy liveness;

    Recycler(Workers workers, Spares spares, MemoryWatch memory) {
        this.workers = workers;
        this.spares = spares;
        this.memory = memory;
    }

    /** Takes the limits of a generation's settings (at start and at every reload). */
    void configure(Generation generation) {
        policy = generation.recyclePolicy();
        liveness = new LivenessPolicy(generation.settings().timeout(), generation.settings().bootTimeout());
        memory.configure(generation);
    }

    /** The per-tick steps for one worker. */
    void police(WorkerHandle w, long now) {
        if (w.is(WorkerState.STANDBY)) {
            // No app runs there: only its boot is watched, up to its attach; once adopted it boots as any worker.
            if (w.link() == null && liveness.check(true, now - w.spawnedAt(), 0, 0, 0)
                    == LivenessPolicy.Verdict.BOOT_TIMEOUT) {
                workers.quitThenKill(w, RecycleReason.BOOT_TIMEOUT, "not attached "
                        + Arbiter.seconds(Duration.ofNanos(now - w.spawnedAt())) + " after its spawn "
                        + "(drover.boot-timeout = " + Arbiter.seconds(liveness.bootTimeout()) + ")");
            }
            return;
        }
        if (memory.police(w, now)) {
            return;
        }
        if (w.state().holdsSlot() || w.is(WorkerState.SPARE)) {
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

    private void policeLimits(WorkerHandle w, long now) {
        if (!w.is(WorkerState.SERVING)) {
            return;
        }
        // A former spare's lifetime counts from its promotion: it served nothing before.
        policy.plannedReason(w.limits(), w.requests(), now - w.servingSince()).ifPresent(reason -> mark(w, reason,
                reason == RecycleReason.MAX_REQUESTS
                        ? "served " + w.requests() + " requests (its limit: " + w.limits().requests() + ")"
                        : "lived " + Arbiter.seconds(Duration.ofNanos(now - w.servingSince())) + " (its limit: "
                                + Arbiter.seconds(Duration.ofNanos(w.limits().lifetimeNanos())) + ")", now));
    }

    static void mark(WorkerHandle w, RecycleReason reason, String why, long now) {
        if (!w.markForRecycle(reason, why, now)) {
            return;
        }
        log.info("{} is due for recycling ({}): {}; {}; its replacement boots first", w, reason.label(), why,
                MemoryWatch.vitals(w, now));
    }

    /** A reload was abandoned: workers marked for it stay as they are. */
    void unmarkReload() {
        workers.all().forEach(WorkerHandle::unmarkReload);
    }

    /**
     * Starts replacements for marked workers, memory emergencies first, then oldest mark first, while fewer than
     * max-surge are booting. Workers of an older generation are due for the reload; while a reload's canary boots,
     * it is the only planned replacement (reload-canary = alone), or the rest boots beside it up to reload-surge
     * (together: the first new worker READY is the canary, and any that fails before then abandons the reload).
     * <p>A memory emergency may take one slot more (max-surge + 1), also while a canary boots: waiting for a slot
     * ends in a SIGKILL at the hard limit, the very loss the projection is there to avoid, while one JVM more for a
     * few seconds is memory the leaking worker is about to give back. The canary rule still holds for what it
     * protects (the old generation is replaced only once the new one has booted): the emergency's replacement
     * is of the new generation and then counts as the canary, and planned marks wait for it as for any canary.
     * <p>A READY spare of {@code generation} takes a due worker's place before any boot (Spares.promote). Outside a
     * reload and an emergency, at most {@code maxJvms} (workers + spare-workers + max(max-surge, standby-jvms)) run at
     * once.
     */
    void startReplacements(int generation, int wanted, boolean canaryPending, long maxJvms, long now) {
        markForReload(generation, wanted, now);
        List<WorkerHandle> all = workers.all();
        long newBooting = all.stream().filter(w -> w.generation() == generation && w.is(WorkerState.BOOTING)).count();
        long replacing = all.stream().filter(w -> w.replaces() != null && w.is(WorkerState.BOOTING)).count();
        List<WorkerHandle> due = all.stream().filter(w -> w.dueForReplacement() && w.id() <= wanted)
                .sorted(Comparator.comparing((WorkerHandle w) -> !w.recycleReason().emergency())
                        .thenComparingLong(WorkerHandle::recycleMarkedAt)).toList();
        for (WorkerHandle old : due) {
            RecycleReason reason = old.recycleReason();
            if (spares.promote(old.id(), generation, old, reason.label())) {
                continue; // booted already: no surge slot, no boot to wait for
            }
            boolean emergency = reason.emergency();
            long limit = policy.surge(reason, canaryPending);
            if ((emergency || !canaryPending ? replacing : newBooting) >= limit) {
                return; // emergencies come first: once one waits, everything after it waits too
            }
            if (!emergency && reason != RecycleReason.RELOAD && workers.live() >= maxJvms
                    && !workers.standbyAdoptable()) {
                return; // a promoted spare and the worker it replaces both serve until its PROMOTED; an adopted
                        // standby is a JVM that counts already
            }
            WorkerHandle replacement = workers.spawnReplacement(old);
            if (replacement == null) {
                return;
            }
            replacing++;
            newBooting++;
            log.info("{} spawned to replace {} ({}); {} of {} replacement(s) booting", replacement, old,
                    reason.label(), emergency || !canaryPending ? replacing : newBooting, surgeLabel(reason,
                            canaryPending, limit));
        }
    }

    private String surgeLabel(RecycleReason reason, boolean canaryPending, long limit) {
        if (reason.emergency()) {
            return "max-surge " + policy.maxSurge() + " + 1 for a memory emergency";
        }
        if (canaryPending && policy.canaryAlone()) {
            return "1 (the canary)";
        }
        if (canaryPending && reason == RecycleReason.RELOAD) {
            return "reload-surge " + (limit == Integer.MAX_VALUE ? "all" : limit) + ", the canary among them "
                    + "(reload-canary = together: no old worker drains before a new one is READY)";
        }
        return reason == RecycleReason.RELOAD ? "reload-surge " + (limit == Integer.MAX_VALUE ? "all" : limit)
                : "max-surge " + limit;
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
        memory.recordBoot(w, now);
        drainReplaced(w, now);
    }

    /**
     * A promoted spare accepts (PROMOTED): the worker it replaces in a planned recycle drains now, so one of them
     * accepts at every moment (surge-first).
     */
    void onPromoted(WorkerHandle w, long now) {
        drainReplaced(w, now);
    }

    private void drainReplaced(WorkerHandle w, long now) {
        WorkerHandle old = w.replaces();
        if (old == null) {
            return;
        }
        w.unpair();
        if (!old.is(WorkerState.SERVING)) {
            return;
        }
        workers.count(old.recycleReason());
        workers.drain(old, old.recycleReason()); // before the vitals: PSS of a big worker takes milliseconds to read
        log.info("{} recycled ({}): {} is serving in its place; draining; {}", old, old.recycleReason().label(),
                w, MemoryWatch.vitals(old, now));
    }


}
