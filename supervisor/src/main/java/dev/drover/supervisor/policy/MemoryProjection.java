package dev.drover.supervisor.policy;

import java.time.Duration;

/**
 * One worker's recent memory readings and what they foretell: how fast it grows, when it reaches a limit, and how
 * often it should be read. Pure: readings and time (monotonic ns) come in as arguments.
 * <p>The rate is the least-squares slope over the last {@link #WINDOW} of readings, floored at 0: one reading that a
 * GC lowered moves a fitted line much less than it moves the difference of the last two readings, and a worker whose
 * memory shrinks is not going to reach any limit.
 */
public final class MemoryProjection {

    /** How far back the rate looks: long enough to smooth one GC, short enough to follow a leak that starts. */
    public static final Duration WINDOW = Duration.ofSeconds(2);
    /** The recent part of the window whose steeper slope the projection also goes by. */
    public static final Duration RECENT = Duration.ofMillis(500);
    /** The reading period of a worker far from its limits (statm costs ~10 µs; the arbiter's tick). */
    public static final Duration SLOW = Duration.ofSeconds(1);
    /**
     * ...of every serving worker when a hard limit is set, and of one near its soft limit: at 600 MiB/s of growth a
     * reading 100 ms late is 60 MiB late, a tenth of a 600M limit.
     */
    public static final Duration FAST = Duration.ofMillis(100);
    /**
     * ...and of one near its hard limit (over {@link #NEAR} of it, or reaching it within {@link #CLOSE_IN}): 25 ms
     * at 600 MiB/s is 15 MiB, within the 5 % a worker at the ceiling may be seen over a 600M limit.
     */
    public static final Duration CLOSE = Duration.ofMillis(25);
    /** Read at {@link #CLOSE} when the hard limit is this near at the current rate. */
    static final Duration CLOSE_IN = Duration.ofSeconds(1);
    /** Read fast from this share of the soft limit (or of the hard one, without a soft limit)... */
    static final double NEAR = 0.8;
    /** ...or when the rate reaches it within this. */
    static final Duration NEAR_IN = Duration.ofSeconds(5);
    /** Fewer readings than this make no projection: the first seconds of a JVM are its heap settling. */
    static final int MIN_READINGS_TO_PROJECT = 3;
    /** A projection that never arrives. */
    public static final long NEVER = Long.MAX_VALUE;

    /** Room for a full window of readings every {@link #CLOSE}, with slack for a late loop. */
    private static final int CAPACITY = 96;
    private final long[] times = new long[CAPACITY];
    private final long[] bytes = new long[CAPACITY];
    private int first;
    private int size;

    /** A reading of {@code value} bytes at {@code now}; readings older than the window fall out. */
    public void record(long now, long value) {
        if (size == CAPACITY) {
            drop();
        }
        int at = (first + size) % CAPACITY;
        times[at] = now;
        bytes[at] = value;
        size++;
        while (size > 1 && now - times[first] > WINDOW.toNanos()) {
            drop();
        }
    }

    /** Forgets every reading (a worker's boot is growth of its own: the rate of a serving worker starts at READY). */
    public void clear() {
        first = 0;
        size = 0;
    }

    private void drop() {
        first = (first + 1) % CAPACITY;
        size--;
    }

    /** The latest reading, or -1 before any. */
    public long latest() {
        return size == 0 ? -1 : bytes[(first + size - 1) % CAPACITY];
    }

    public int readings() {
        return size;
    }

    /** Growth in bytes per second over the window: the least-squares slope, at least 0; 0 with fewer than two. */
    public double bytesPerSecond() {
        return slope(0);
    }

    /**
     * The growth the projection goes by: the window's slope, or the slope of its last {@link #RECENT} if that is
     * steeper (with {@link #MIN_READINGS_TO_PROJECT} readings in it). A JVM's RSS under a fast leak grows faster as
     * it grows (the heap commits regions as quickly as garbage comes, up to -Xmx): the 2 s slope alone lags behind.
     */
    public double projectedBytesPerSecond() {
        int from = size;
        while (from > 0 && times[index(size - 1)] - times[index(from - 1)] <= RECENT.toNanos()) {
            from--;
        }
        double recent = size - from >= MIN_READINGS_TO_PROJECT ? slope(from) : 0;
        return Math.max(slope(0), recent);
    }

    /** The least-squares slope of the readings from the {@code from}-th on, at least 0; 0 with fewer than two. */
    private double slope(int from) {
        int n = size - from;
        if (n < 2) {
            return 0;
        }
        double meanT = 0;
        double meanB = 0;
        for (int i = from; i < size; i++) {
            meanT += seconds(i) / n;
            meanB += (double) bytes[index(i)] / n;
        }
        double covariance = 0;
        double variance = 0;
        for (int i = from; i < size; i++) {
            double dt = seconds(i) - meanT;
            covariance += dt * (bytes[index(i)] - meanB);
            variance += dt * dt;
        }
        return variance == 0 ? 0 : Math.max(0, covariance / variance);
    }

    private int index(int i) {
        return (first + i) % CAPACITY;
    }

    /** Seconds since the oldest reading in the window (small numbers keep the sums exact). */
    private double seconds(int i) {
        return (times[index(i)] - times[first]) / 1e9;
    }

    /**
     * Nanoseconds from the latest reading until memory reaches {@code limit} at the current rate: 0 if it is there
     * already, {@link #NEVER} if it is not growing or there are too few readings to tell.
     */
    public long nanosTo(long limit) {
        return nanosTo(limit, MIN_READINGS_TO_PROJECT);
    }

    private long nanosTo(long limit, int minReadings) {
        if (size > 0 && latest() >= limit) {
            return 0;
        }
        double rate = projectedBytesPerSecond();
        if (size < minReadings || rate <= 0) {
            return NEVER;
        }
        return (long) Math.min(NEVER, (limit - latest()) / rate * 1e9);
    }

    /** Whether memory reaches {@code limit} (a positive number of bytes) sooner than {@code needed}. */
    public boolean reachesBefore(long limit, Duration needed) {
        return nanosTo(limit) < needed.toNanos();
    }

    /**
     * How soon to read again. With a hard limit: {@link #CLOSE} near it (over {@link #NEAR} of it, or reaching it
     * within {@link #CLOSE_IN}), else {@link #FAST}, whatever the rate: a JVM's RSS can go from idle to past the
     * limit within one slow period (seen: 118 to 703 MiB within one second, when load met a leak and G1 grew its
     * young generation; the rate of the readings before foretold ~30 MiB/s). With a soft limit only: {@link #FAST}
     * until two readings give a rate, and near it (over {@link #NEAR} of it, over it, or reaching it within
     * {@link #NEAR_IN}), else {@link #SLOW}; a soft limit is graceful, and a late reading only delays the recycle.
     */
    public Duration interval(long softLimit, long hardLimit) {
        if (hardLimit > 0) {
            boolean close = latest() >= hardLimit * NEAR || nanosTo(hardLimit, 2) < CLOSE_IN.toNanos();
            return close ? CLOSE : FAST;
        }
        if (softLimit <= 0) {
            return SLOW;
        }
        if (size < 2) {
            return FAST; // a new worker's growth is unknown: a fast leak can cross the limit within a slow period
        }
        // Two readings are enough to read faster: reading more often costs microseconds, not a recycle.
        boolean near = latest() >= softLimit * NEAR || nanosTo(softLimit, 2) < NEAR_IN.toNanos();
        return near ? FAST : SLOW;
    }

    /**
     * The next reading after {@code now} on a grid of {@code period} (monotonic ns): every worker read on the same
     * period is then read in the same wake-up of the loop, however many there are and whenever each was spawned.
     * Never later than {@code now + period}.
     */
    public static long nextOnGrid(long now, Duration period) {
        long p = period.toNanos();
        return now - Math.floorMod(now, p) + p;
    }

    /**
     * How long a replacement takes to make this worker's exit graceful, from now: the replacement's boot, the old
     * worker's drain and its JVM's exit, plus a margin of a quarter of that and two reading periods (the decision
     * itself can come one period late, and the exit is seen one period late).
     */
    public static Duration needed(Duration boot, Duration drain, Duration interval) {
        Duration work = boot.plus(drain).plus(EXIT);
        return work.plus(work.dividedBy(4)).plus(interval.multipliedBy(2));
    }

    /** A JVM's exit after its drain (0.4-0.7 s measured for a worker of a few hundred MiB). */
    public static final Duration EXIT = Duration.ofMillis(500);

    /**
     * The time a worker stopped at its hard limit may get to finish its requests before SIGKILL: what it takes to
     * grow from {@code bytes} to 5 % over the limit at {@code bytesPerSecond}, at least MIN_CEILING, at most
     * {@code gracefulTimeout}.
     */
    public static Duration ceilingDeadline(long bytes, long hardLimit, double bytesPerSecond,
                                           Duration gracefulTimeout) {
        double headroom = hardLimit * CEILING_TOLERANCE - bytes;
        long nanos = bytesPerSecond <= 0 ? gracefulTimeout.toNanos()
                : (long) Math.min(gracefulTimeout.toNanos(), Math.max(0, headroom) / bytesPerSecond * 1e9);
        long least = Math.min(MIN_CEILING.toNanos(), gracefulTimeout.toNanos());
        return Duration.ofNanos(Math.max(least, Math.min(nanos, gracefulTimeout.toNanos())));
    }

    /** How far over the hard limit a worker may be seen while it finishes its requests. */
    public static final double CEILING_TOLERANCE = 1.05;
    /**
     * The least a worker at the ceiling gets: its JVM's own exit takes 0.4-0.7 s here, and the final class histogram
     * of its leak report (a full GC) is taken only if the deadline leaves twice the baseline's time for it (0.2-0.5 s
     * for a few hundred MiB of heap). A worker that has answered what it had in flight exits before; memory that goes
     * on growing meanwhile is stopped by the 100 ms readings against CEILING_TOLERANCE, not by this deadline.
     */
    private static final Duration MIN_CEILING = Duration.ofSeconds(2);
}
