package dev.drover.supervisor.policy;

import java.time.Duration;
import java.util.Arrays;

/**
 * How long a generation's workers take from spawn to READY, as a memory emergency must plan with it: the 90th
 * percentile of the latest boots that ran beside serving workers (a replacement boots while the machine is busy
 * with them), a cautious estimate before the first. Pure.
 */
public final class BootTimes {

    /**
     * Before any worker of the generation is READY: longer than the boots measured under load (0.2-1.6 s for the
     * sample app on 2 busy cores), so that the first emergency starts early rather than late.
     */
    public static final Duration DEFAULT = Duration.ofSeconds(2);
    /**
     * Before a boot beside serving workers was measured, the boots at start (nothing else running) times this: the
     * sample app's replacements under a leaking load took 1.2-3.5 x the boots at start (docs/BENCHMARKS.md, "Boots
     * beside a leaking load").
     */
    static final int IDLE_TO_BUSY = 3;
    /** The latest boots kept: enough for a percentile, few enough to follow a machine that got busier. */
    private static final int KEPT = 20;

    private final Kept busy = new Kept();
    private final Kept idle = new Kept();

    /**
     * A worker's spawn-to-READY time; {@code besideServing}: other workers served while it booted (a replacement,
     * a reload's new worker, a spare), not the boots at start, which had the machine to themselves.
     */
    public void record(Duration spawnToReady, boolean besideServing) {
        (besideServing ? busy : idle).add(spawnToReady.toNanos());
    }

    /**
     * The 90th percentile (nearest rank) of the boots beside serving workers; before the first, the larger of
     * {@link #DEFAULT} and {@link #IDLE_TO_BUSY} x the boots at start.
     */
    public Duration p90() {
        if (busy.count > 0) {
            return Duration.ofNanos(busy.p90());
        }
        if (idle.count > 0) {
            Duration scaled = Duration.ofNanos(idle.p90()).multipliedBy(IDLE_TO_BUSY);
            return scaled.compareTo(DEFAULT) > 0 ? scaled : DEFAULT;
        }
        return DEFAULT;
    }

    private static final class Kept {
        private final long[] nanos = new long[KEPT];
        private int count;

        void add(long value) {
            nanos[count % KEPT] = value;
            count++;
        }

        long p90() {
            int n = Math.min(count, KEPT);
            long[] sorted = Arrays.copyOf(nanos, n);
            Arrays.sort(sorted);
            return sorted[(int) Math.ceil(0.9 * n) - 1];
        }
    }
}
