package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.config.MemoryLimits;
import dev.drover.supervisor.os.ProcMemory;
import dev.drover.supervisor.policy.BootTimes;
import dev.drover.supervisor.policy.MemoryProjection;
import dev.drover.supervisor.policy.RecyclePolicy;
import dev.drover.supervisor.policy.RecycleReason;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each worker's memory, on the arbiter's thread: reads it on the worker's own period (MemoryProjection.interval),
 * projects its growth, and acts on the limits: a soft-limit recycle, a memory emergency's replacement at once
 * (memory-projected), the ceiling at the hard limit, and the SIGKILL of a worker that goes on growing under it.
 */
final class MemoryWatch {

    private static final Logger log = LoggerFactory.getLogger(MemoryWatch.class);
    /**
     * PSS/USS (smaps_rollup) cost 1-20 ms per worker, so the periodic reading is rare: with 16 workers, one every
     * 10 s each cost the master more CPU than everything else it does when idle. `ctl status` and the recycle log
     * lines read fresh ones when they need them; limits on PSS/USS read them once RSS (always above) is over a limit.
     */
    static final long ROLLUP_PERIOD_MS = 60_000;
    /**
     * What a memory emergency plans for the old worker's drain beyond its requests: the final class histogram it
     * takes for the leak report (0.2-1.0 s measured under a fast leak) and requests of a few ms.
     */
    static final Duration DRAIN_ESTIMATE = Duration.ofMillis(500);
    /** How far ahead of the hard limit (at the worker's rate) the ceiling stops a fast-growing worker. */
    static final Duration CEILING_LEAD = Duration.ofMillis(500);

    private final Workers workers;
    private final Marker marker;
    private RecyclePolicy policy;
    /** Spawn-to-READY times per generation, for the time a memory emergency's replacement needs. */
    private final Map<Integer, BootTimes> bootTimes = new HashMap<>();
    /** When the first worker became READY (if one has): a worker spawned after it booted beside serving ones. */
    private long firstReadyAt;
    private boolean anyReady;
    private int generation;

    /** Marks a worker for a planned recycle (the soft limit's): Recycler.mark. */
    interface Marker {
        void mark(WorkerHandle w, RecycleReason reason, String why, long now);
    }

    MemoryWatch(Workers workers, Marker marker) {
        this.workers = workers;
        this.marker = marker;
    }

    /** Takes the limits of a generation's settings (at start and at every reload). */
    void configure(Generation generation) {
        policy = generation.recyclePolicy();
        this.generation = generation.number();
        bootTimes.keySet().removeIf(n -> n < generation.number() - 1); // the one before stays: a reload may fall back
    }

    /** A worker became READY: its boot time counts toward the time its generation's replacements need. */
    void recordBoot(WorkerHandle w, long now) {
        boolean besideServing = anyReady && w.spawnedAt() - firstReadyAt >= 0;
        if (!anyReady) {
            anyReady = true;
            firstReadyAt = now;
        }
        bootTimes.computeIfAbsent(w.generation(), n -> new BootTimes())
                .record(Duration.ofNanos(now - w.spawnedAt()), besideServing);
    }

    /**
     * A tick's reading of one worker and what it calls for. Returns true if nothing else is to be checked: the worker
     * is under the ceiling, killed, or was just stopped.
     */
    boolean police(WorkerHandle w, long now) {
        long reading = readMemory(w, now);
        if (w.is(WorkerState.KILLED) || w.underCeiling()) {
            policeCeiling(w, reading, now);
            return true;
        }
        return policeMemory(w, reading, now);
    }

    /**
     * Between ticks: reads the memory of every worker whose next reading is due (with a hard limit every 100 ms, every
     * 25 ms near it: MemoryProjection.interval) and acts on it. Returns true if a worker was marked or killed, so the
     * loop starts replacements.
     */
    boolean readDue(long now) {
        boolean changed = false;
        for (WorkerHandle w : List.copyOf(workers.all())) {
            if (w.nextReadingAt() - now > 0 || w.is(WorkerState.STANDBY)) {
                continue; // (a standby JVM runs no app: nothing to police until it is adopted)
            }
            if (w.is(WorkerState.KILLED) || w.underCeiling()) {
                policeCeiling(w, readMemory(w, now), now); // (only workers under the ceiling are read: see below)
            } else {
                RecycleReason before = w.recycleReason();
                changed |= policeMemory(w, readMemory(w, now), now) || w.recycleReason() != before;
            }
        }
        return changed;
    }

    /**
     * A worker under the memory ceiling answers what it has in flight: it is read as often as before it got there
     * (every 25 ms near the limit), SIGKILLed at once when a reading is past the ceiling's tolerance or its rate
     * would take it there before the next reading, and at its deadline.
     */
    private void policeCeiling(WorkerHandle w, long reading, long now) {
        if (!w.underCeiling()) {
            return;
        }
        long hard = policy.memory().hardLimit();
        double rate = w.projection().projectedBytesPerSecond();
        String seen = policy.memory().metric().label() + " " + mib(reading);
        if (Workers.grewPastCeiling(w, reading, hard)) {
            workers.killOverCeiling(w, "to " + seen + ", past");
        } else if (Workers.grewPastCeiling(w, reading + (long) (rate * interval(w).toNanos() / 1e9), hard)) {
            workers.killOverCeiling(w, String.format("to %s at %.0f MiB/s: before the next reading it would be past",
                    seen, rate / MIB));
        } else {
            workers.killIfOverdue(w, now);
        }
    }

    /** When the next reading of any worker is due (monotonic ns); Long.MAX_VALUE if none is. */
    long nextReadingAt() {
        long next = Long.MAX_VALUE;
        for (WorkerHandle w : workers.all()) {
            if ((!w.is(WorkerState.KILLED) || w.underCeiling()) && !w.is(WorkerState.STANDBY)) {
                next = Math.min(next, w.nextReadingAt());
            }
        }
        return next;
    }

    /** Returns true if the worker was killed. */
    private boolean policeMemory(WorkerHandle w, long reading, long now) {
        MemoryLimits limits = policy.memory();
        // A serving or draining worker is stopped on its rate too: a draining one still answers its keep-alive
        // clients and takes its class histogram, and its heap can pass the limit between two readings as well (seen:
        // 214 to 269 MiB within 200 ms under a 240M limit). A booting JVM grows fast by itself (its rate starts at
        // READY): for it only a reading over the limit counts.
        boolean rated = w.is(WorkerState.SERVING) || w.is(WorkerState.DRAINING);
        if (policy.overHardLimit(reading) || (rated && overHardByNextReading(w))) {
            killAtHardLimit(w, reading, now);
            return !w.is(WorkerState.DRAINING);
        }
        if (limits.hardLimit() > 0 && w.is(WorkerState.SERVING)) {
            projectToHardLimit(w, now);
        }
        long overSince = w.overSoftLimit(policy.overSoftLimit(reading), now);
        if (overSince != -1 && policy.softGraceExpired(overSince, now) && w.is(WorkerState.SPARE)) {
            log.info("{} stopped: {} {} over drover.memory.soft-limit ({}); another spare replaces it", w,
                    limits.metric().label(), mib(reading), mib(limits.softLimit()));
            workers.drain(w, null); // a spare never accepted: nothing to hand over
            return false;
        }
        if (overSince != -1 && policy.softGraceExpired(overSince, now) && w.is(WorkerState.SERVING)) {
            marker.mark(w, RecycleReason.MEMORY, limits.metric().label() + " " + mib(reading) + " has been over "
                    + "drover.memory.soft-limit (" + mib(limits.softLimit()) + ") for "
                    + Arbiter.seconds(Duration.ofNanos(now - overSince)), now);
        }
        return false;
    }

    /**
     * The hard limit (or the rate passing it within two readings): the ceiling (Workers.ceiling): the worker stops
     * accepting at once and answers what it has in flight until ceilingDeadline(w, reading), then SIGKILL.
     */
    private void killAtHardLimit(WorkerHandle w, long reading, long now) {
        MemoryLimits limits = policy.memory();
        MemoryProjection p = w.projection();
        String over = policy.overHardLimit(reading) ? " is over drover.memory.hard-limit ("
                : String.format(" growing %.0f MiB/s would be over drover.memory.hard-limit (", p.projectedBytesPerSecond() / MIB);
        String when = policy.overHardLimit(reading) ? "" : " within " + Arbiter.seconds(
                CEILING_LEAD.compareTo(interval(w).multipliedBy(2)) > 0 ? CEILING_LEAD : interval(w).multipliedBy(2));
        // Not vitals(): its PSS reading (smaps_rollup, 10-20 ms of a big JVM) would delay the CEILING.
        workers.ceiling(w, ceilingDeadline(w, reading), reading, limits.metric().label() + " " + mib(reading) + over
                + mib(limits.hardLimit()) + ")" + when + "; age " + Arbiter.seconds(Duration.ofNanos(now - w.spawnedAt()))
                + ", " + w.requests() + " requests served, heap used " + mib(w.stats().heapUsed()));
    }

    /**
     * How long a worker stopped at the hard limit may finish its requests before SIGKILL: the time its growth
     * takes to use the headroom to 5 % over the limit, at least 2 s, at most drover.graceful-timeout. (Tried:
     * graceful-timeout alone, the headroom kept by the readings only; at ~100 MiB/s with a nearly full heap the
     * workers at the ceiling then went on collecting garbage for seconds on the cores their replacements needed.)
     */
    Duration ceilingDeadline(WorkerHandle w, long reading) {
        return MemoryProjection.ceilingDeadline(reading, policy.memory().hardLimit(), w.projection().projectedBytesPerSecond(),
                workers.gracefulTimeout());
    }

    /**
     * Whether RSS, at its rate, passes the hard limit within CEILING_LEAD (or two reading periods, if longer):
     * stopping the worker only at the reading over the limit would leave up to one period of growth (60 MiB at
     * 600 MiB/s and 100 ms) above it, and the worker needs time of its own to stop: its JVM, busy collecting a
     * fast-growing heap, acts on CEILING 30-150 ms late, and its RSS goes on rising meanwhile (seen in
     * MemoryCeilingIT: 5 % of a 600 MiB limit gone in 100 ms). Only for RSS limits: the projection follows statm,
     * and PSS or USS can be far below RSS.
     */
    private boolean overHardByNextReading(WorkerHandle w) {
        MemoryLimits limits = policy.memory();
        Duration lead = interval(w).multipliedBy(2);
        return limits.hardLimit() > 0 && limits.metric() == MemoryLimits.Metric.RSS
                && w.projection().nanosTo(limits.hardLimit()) < Math.max(lead.toNanos(), CEILING_LEAD.toNanos());
    }

    /**
     * A memory emergency: at its rate the worker reaches the hard limit before a replacement could boot and the
     * worker drain and exit; its replacement starts now, without waiting out drover.memory.soft-grace.
     */
    private void projectToHardLimit(WorkerHandle w, long now) {
        MemoryProjection p = w.projection();
        long hard = policy.memory().hardLimit();
        Duration needed = MemoryProjection.needed(bootTime(), drainEstimate(w), interval(w));
        if (!p.reachesBefore(hard, needed)) {
            return;
        }
        String why = String.format("rss %s growing %.0f MiB/s reaches drover.memory.hard-limit (%s) in %s; a "
                + "replacement needs ~%s: replacing now", mib(p.latest()), p.projectedBytesPerSecond() / MIB, mib(hard),
                Arbiter.seconds(Duration.ofNanos(p.nanosTo(hard))), Arbiter.seconds(needed));
        if (w.markForEmergency(RecycleReason.MEMORY_PROJECTED, why, now)) {
            log.warn("{} is due for recycling ({}): {}; {}; its replacement boots first, ahead of planned recycles",
                    w, RecycleReason.MEMORY_PROJECTED.label(), why, vitals(w, now));
        }
    }

    /**
     * How long a replacement takes to serve: a READY spare's promotion, else the p90 spawn-to-READY time of the
     * generation replacements are spawned from (with spares, boots that overlap the first workers' inflate it).
     */
    private Duration bootTime() {
        if (workers.readySpares(generation) > 0) {
            return SPARE_PROMOTION;
        }
        BootTimes times = bootTimes.get(generation);
        return times == null ? BootTimes.DEFAULT : times.p90();
    }

    /** A spare's promotion to its first accepted connection: 40-60 ms measured (docs/BENCHMARKS.md, spare workers). */
    static final Duration SPARE_PROMOTION = Duration.ofMillis(100);

    /** The old worker's drain: the estimate plus its oldest request in flight (foreign workers report it). */
    private Duration drainEstimate(WorkerHandle w) {
        Duration drain = DRAIN_ESTIMATE.plusMillis(w.stats().requestStallMs());
        return drain.compareTo(workers.gracefulTimeout()) > 0 ? workers.gracefulTimeout() : drain;
    }

    private Duration interval(WorkerHandle w) {
        return w.projection().interval(policy.memory().softLimit(), policy.memory().hardLimit());
    }

    /**
     * Reads RSS at every reading (statm, ~10 µs, on the worker's period) and PSS/USS (smaps_rollup, 1-20 ms) only
     * when the limits need them or the status reading is older than ROLLUP_PERIOD_MS; schedules the next reading.
     * Returns the reading the limits apply to.
     */
    private long readMemory(WorkerHandle w, long now) {
        long rss = w.process().rssBytes();
        if (rss >= 0) {
            w.recordReading(rss, now);
        } else {
            w.recordRss(rss); // gone: its exit is on its way
        }
        w.scheduleReading(MemoryProjection.nextOnGrid(now, interval(w)));
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

    private static final double MIB = 1048576.0;

    static String mib(long bytes) {
        return bytes < 0 ? "?" : String.format("%.1f MiB", bytes / 1048576.0);
    }
}
