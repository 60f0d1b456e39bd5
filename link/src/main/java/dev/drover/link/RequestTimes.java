package dev.drover.link;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A worker's request durations and response status classes, counted since it started in fixed buckets that both
 * ends know, and their STATS fields. The worker records; the master reads the cumulative counts and merges them per
 * slot. The fields use '/' between numbers: a link value is a token, and ',' is not one.
 */
public final class RequestTimes {

    /** The buckets' upper bounds, in seconds; one more bucket takes everything above the last. */
    public static final double[] BOUNDS_SECONDS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
            5, 10};
    /** Status classes 1xx..5xx. */
    public static final int CLASSES = 5;
    /** STATS fields: per-bucket counts, the sum of durations in microseconds, the counts per status class. */
    public static final String BUCKETS = "req_buckets";
    public static final String SUM_MICROS = "req_sum_us";
    public static final String STATUS = "req_status";
    /**
     * The cost measurement's switch (scripts/bench metrics): {@code -Ddrover.request-times=false} in
     * worker-jvm-options records nothing and sends none of these fields.
     */
    public static final boolean ENABLED = !"false".equals(System.getProperty("drover.request-times"));

    private static final long[] BOUNDS_NANOS = Arrays.stream(BOUNDS_SECONDS).mapToLong(s -> Math.round(s * 1e9))
            .toArray();

    private final AtomicLongArray buckets = new AtomicLongArray(BOUNDS_SECONDS.length + 1);
    private final AtomicLong sumMicros = new AtomicLong();
    private final AtomicLongArray status = new AtomicLongArray(CLASSES);

    /** One request took {@code nanos}; {@code statusCode} 0 when the server does not tell it. */
    public void record(long nanos, int statusCode) {
        int bucket = 0;
        while (bucket < BOUNDS_NANOS.length && nanos > BOUNDS_NANOS[bucket]) {
            bucket++;
        }
        buckets.incrementAndGet(bucket);
        sumMicros.addAndGet(nanos / 1000);
        int statusClass = statusCode / 100 - 1;
        if (statusClass >= 0 && statusClass < CLASSES) {
            status.incrementAndGet(statusClass);
        }
    }

    /** Adds the counts so far to a STATS message. */
    public void addTo(LinkMessage.Builder stats) {
        stats.put(BUCKETS, join(buckets)).put(SUM_MICROS, sumMicros.get()).put(STATUS, join(status));
    }

    private static String join(AtomicLongArray counts) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < counts.length(); i++) {
            text.append(i == 0 ? "" : "/").append(counts.get(i));
        }
        return text.toString();
    }

    /** The counts a STATS message carries, or null when it carries none (measuring turned off, an older worker). */
    public static Counts read(LinkMessage stats) {
        if (!stats.fields().containsKey(BUCKETS)) {
            return null;
        }
        return new Counts(split(stats, BUCKETS, BOUNDS_SECONDS.length + 1), stats.number(SUM_MICROS),
                split(stats, STATUS, CLASSES));
    }

    private static long[] split(LinkMessage stats, String field, int size) {
        String[] parts = stats.text(field).split("/");
        if (parts.length != size) {
            throw new LinkProtocolException("STATS field " + field + "=" + stats.text(field) + " (expected: " + size
                    + " whole numbers separated by '/')");
        }
        long[] counts = new long[size];
        for (int i = 0; i < size; i++) {
            try {
                counts[i] = Long.parseLong(parts[i]);
            } catch (NumberFormatException e) {
                throw new LinkProtocolException("STATS field " + field + "=" + stats.text(field)
                        + " (expected: whole numbers separated by '/')");
            }
        }
        return counts;
    }

    /** Cumulative counts: per bucket (not cumulative across buckets), the sum, per status class. Immutable. */
    public record Counts(long[] buckets, long sumMicros, long[] statusClasses) {
        public static final Counts ZERO = new Counts(new long[BOUNDS_SECONDS.length + 1], 0, new long[CLASSES]);

        public Counts {
            buckets = buckets.clone();
            statusClasses = statusClasses.clone();
        }

        @Override
        public long[] buckets() {
            return buckets.clone();
        }

        @Override
        public long[] statusClasses() {
            return statusClasses.clone();
        }

        public long count() {
            return Arrays.stream(buckets).sum();
        }

        public Counts plus(Counts other) {
            long[] b = buckets.clone();
            long[] s = statusClasses.clone();
            for (int i = 0; i < b.length; i++) {
                b[i] += other.buckets[i];
            }
            for (int i = 0; i < s.length; i++) {
                s[i] += other.statusClasses[i];
            }
            return new Counts(b, sumMicros + other.sumMicros, s);
        }
    }
}
