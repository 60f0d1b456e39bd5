package dev.drover.supervisor.metrics;

import java.util.Arrays;

/**
 * Durations in fixed buckets, immutable: {@code counts[i]} observations at most {@code bounds[i]} seconds (and above
 * the one before), one more count for everything above the last bound, and their sum.
 */
public record Distribution(double[] bounds, long[] counts, double sumSeconds) {

    public Distribution {
        if (counts.length != bounds.length + 1) {
            throw new IllegalArgumentException(counts.length + " counts for " + bounds.length
                    + " bounds (expected: one more count than bounds, for +Inf)");
        }
        bounds = bounds.clone();
        counts = counts.clone();
    }

    public static Distribution empty(double[] bounds) {
        return new Distribution(bounds, new long[bounds.length + 1], 0);
    }

    @Override
    public double[] bounds() {
        return bounds.clone();
    }

    @Override
    public long[] counts() {
        return counts.clone();
    }

    /** The same with one observation more; the arbiter keeps its histograms this way (a few per recycle). */
    public Distribution plus(double seconds) {
        long[] next = counts.clone();
        int bucket = 0;
        while (bucket < bounds.length && seconds > bounds[bucket]) {
            bucket++;
        }
        next[bucket]++;
        return new Distribution(bounds, next, sumSeconds + seconds);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Distribution d && Arrays.equals(bounds, d.bounds) && Arrays.equals(counts, d.counts)
                && sumSeconds == d.sumSeconds;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(counts);
    }
}
