package dev.drover.supervisor.policy;

import java.time.Duration;
import java.util.Arrays;

/**
 * How long a generation's workers take from spawn to READY, as a memory emergency must plan with it: the 90th
 * percentile of the latest boots (a replacement often boots while the machine is busy with another), a cautious
 * default before the first READY. Pure.
 */
public final class BootTimes {

    /**
     * Before any worker of the generation is READY: longer than the boots measured under load (0.2-1.6 s for the
     * sample app on 2 busy cores), so that the first emergency starts early rather than late.
     */
    public static final Duration DEFAULT = Duration.ofSeconds(2);
    /** The latest boots kept: enough for a percentile, few enough to follow a machine that got busier. */
    private static final int KEPT = 20;

    private final long[] nanos = new long[KEPT];
    private int count;

    public void record(Duration spawnToReady) {
        nanos[count % KEPT] = spawnToReady.toNanos();
        count++;
    }

    /** The 90th percentile (nearest rank) of the boots kept, or {@link #DEFAULT} before the first. */
    public Duration p90() {
        int n = Math.min(count, KEPT);
        if (n == 0) {
            return DEFAULT;
        }
        long[] sorted = Arrays.copyOf(nanos, n);
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(0.9 * n);
        return Duration.ofNanos(sorted[rank - 1]);
    }
}
