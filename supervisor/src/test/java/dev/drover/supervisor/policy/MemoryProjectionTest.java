package dev.drover.supervisor.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MemoryProjectionTest {

    private static final long MIB = 1 << 20;
    private static final long START = 5_000_000_000L;

    private final MemoryProjection p = new MemoryProjection();
    private long now = START;

    /** Readings every {@code stepMs} for {@code count} steps, growing {@code mibPerSecond} from {@code fromMib}. */
    private void grow(double fromMib, double mibPerSecond, int stepMs, int count) {
        for (int i = 0; i < count; i++) {
            now += Duration.ofMillis(stepMs).toNanos();
            p.record(now, (long) ((fromMib + mibPerSecond * i * stepMs / 1000.0) * MIB));
        }
    }

    @Test
    void aConstantRateIsMeasuredAndProjected() {
        grow(200, 100, 100, 15);
        assertEquals(100, p.bytesPerSecond() / MIB, 0.01);
        // latest 340 MiB; 600 MiB is 260 MiB away at 100 MiB/s
        assertEquals(2.6, p.nanosTo(600 * MIB) / 1e9, 0.01);
        assertEquals(0, p.nanosTo(300 * MIB), "already over it");
    }

    @Test
    void oneGcDipInTheWindowBarelyMovesTheRate() {
        for (int i = 0; i < 20; i++) {
            now += Duration.ofMillis(100).toNanos();
            long bytes = (200 + 10 * i) * MIB; // 100 MiB/s
            p.record(now, i == 12 ? bytes - 150 * MIB : bytes);
        }
        double rate = p.bytesPerSecond() / MIB;
        assertTrue(rate > 85 && rate < 115, "rate with one dip: " + rate);
        assertTrue(rate > 0);
    }

    @Test
    void aRateThatStopsFallsToZeroOnceTheWindowHasPassed() {
        grow(200, 200, 100, 10);
        assertTrue(p.bytesPerSecond() > 150 * MIB);
        long flat = p.latest();
        for (int i = 0; i < 21; i++) {
            now += Duration.ofMillis(100).toNanos();
            p.record(now, flat);
        }
        assertEquals(0, p.bytesPerSecond());
        assertEquals(MemoryProjection.NEVER, p.nanosTo(600 * MIB));
        assertFalse(p.reachesBefore(600 * MIB, Duration.ofSeconds(30)));
    }

    @Test
    void noiseAroundAFlatLineMakesNoEmergency() {
        Random random = new Random(42);
        for (int i = 0; i < 40; i++) {
            now += Duration.ofMillis(100).toNanos();
            p.record(now, 500 * MIB + (long) (random.nextGaussian() * 5 * MIB));
        }
        assertTrue(p.bytesPerSecond() < 10 * MIB, "rate from noise alone: " + p.bytesPerSecond() / MIB);
        assertFalse(p.reachesBefore(600 * MIB, Duration.ofSeconds(3)));
    }

    @Test
    void noiseAroundAConstantRateKeepsTheRate() {
        Random random = new Random(7);
        for (int i = 0; i < 20; i++) {
            now += Duration.ofMillis(100).toNanos();
            p.record(now, (long) ((200 + 16.0 * i) * MIB + random.nextGaussian() * 5 * MIB)); // 160 MiB/s
        }
        assertEquals(160, p.bytesPerSecond() / MIB, 25);
    }

    @Test
    void aShrinkingWorkerIsNotGrowing() {
        grow(500, -100, 100, 10);
        assertEquals(0, p.bytesPerSecond());
    }

    @Test
    void tooFewReadingsProjectNothing() {
        assertEquals(0, p.bytesPerSecond());
        grow(200, 500, 100, 2);
        assertTrue(p.bytesPerSecond() > 0, "two readings give a rate, for the reading period");
        assertEquals(MemoryProjection.NEVER, p.nanosTo(600 * MIB), "...but no decision");
    }

    @Test
    void theDecisionComparesTheProjectionWithTheTimeAReplacementNeeds() {
        grow(300, 160, 100, 10); // latest 444 MiB at 160 MiB/s: 600 MiB in ~0.98 s
        Duration needed = MemoryProjection.needed(Duration.ofMillis(600), Duration.ofMillis(500),
                MemoryProjection.FAST);
        assertEquals(Duration.ofMillis(2200), needed, "(0.6 + 0.5 + 0.5) x 1.25 + 2 x 0.1");
        assertTrue(p.reachesBefore(600 * MIB, needed));
        assertFalse(p.reachesBefore(600 * MIB, Duration.ofMillis(900)));
    }

    @Test
    void anAcceleratingGrowthIsProjectedAtItsRecentRate() {
        grow(200, 50, 100, 15);  // 1.5 s at 50 MiB/s
        grow(275, 300, 100, 6);  // then 0.6 s at 300 MiB/s
        double window = p.bytesPerSecond() / MIB;
        double projected = p.projectedBytesPerSecond() / MIB;
        assertTrue(window < 200, "the 2 s slope lags: " + window);
        assertEquals(300, projected, 1.0, "the last 0.5 s goes first when steeper");
        assertTrue(p.reachesBefore(600 * MIB, Duration.ofSeconds(2)), "425 MiB, 175 MiB to go at 300 MiB/s");
    }

    @Test
    void aSteadyGrowthIsProjectedAtTheWindowsRate() {
        grow(200, 100, 100, 20);
        assertEquals(p.bytesPerSecond(), p.projectedBytesPerSecond(), 1.0);
    }

    @Test
    void clearedReadingsGiveNoRate() {
        grow(100, 300, 100, 10);
        assertTrue(p.bytesPerSecond() > 0);
        p.clear();
        assertEquals(-1, p.latest());
        assertEquals(0, p.bytesPerSecond(), 0.0);
        assertEquals(MemoryProjection.FAST, p.interval(300 * MIB, 600 * MIB), "read fast until there is a rate again");
    }

    @Test
    void withOnlyASoftLimitTheReadingPeriodIsFastNearItAndSlowFarFromIt() {
        assertEquals(MemoryProjection.FAST, p.interval(300 * MIB, 0), "no rate yet: a new worker");
        p.record(now, 100 * MIB);
        assertEquals(MemoryProjection.FAST, p.interval(300 * MIB, 0), "one reading is no rate yet");
        assertEquals(MemoryProjection.SLOW, p.interval(0, 0), "no limits: nothing to read for");
        grow(100, 0, 1000, 3);
        assertEquals(MemoryProjection.SLOW, p.interval(300 * MIB, 0), "flat and far");
        p.record(now += 1_000_000_000L, 245 * MIB);
        assertEquals(MemoryProjection.FAST, p.interval(300 * MIB, 0), "over 80 % of the soft limit");
        assertEquals(MemoryProjection.SLOW, p.interval(0, 0), "no limits");
    }

    @Test
    void aFastRateReadsFastBeforeTheSoftLimitIsNear() {
        grow(100, 80, 1000, 2); // two readings, 180 MiB at 80 MiB/s: the soft limit in 1.5 s
        assertEquals(MemoryProjection.FAST, p.interval(300 * MIB, 0));
        assertEquals(MemoryProjection.SLOW, p.interval(1000 * MIB, 0), "1000 MiB is 10 s away");
    }

    @Test
    void withAHardLimitEveryWorkerIsReadFastAndCloseToItFasterStill() {
        assertEquals(MemoryProjection.FAST, p.interval(300 * MIB, 600 * MIB), "no reading yet");
        grow(60, 0, 1000, 3);
        assertEquals(MemoryProjection.FAST, p.interval(300 * MIB, 600 * MIB),
                "flat and far from both limits: still 100 ms, a JVM can go from idle to past 600 MiB within 1 s");
        assertEquals(MemoryProjection.FAST, p.interval(0, 600 * MIB), "without a soft limit too");
        p.record(now += 100_000_000L, 490 * MIB);
        assertEquals(MemoryProjection.CLOSE, p.interval(300 * MIB, 600 * MIB), "over 80 % of the hard limit");
        p.clear();
        grow(100, 400, 100, 3); // 180 MiB, growing 400 MiB/s: 600 MiB in ~1.05 s
        assertEquals(MemoryProjection.FAST, p.interval(300 * MIB, 600 * MIB), "the hard limit just over 1 s away");
        grow(220, 400, 100, 1); // 220 MiB: 0.95 s away
        assertEquals(MemoryProjection.CLOSE, p.interval(300 * MIB, 600 * MIB), "the hard limit within 1 s");
    }

    @Test
    void readingsFallOnACommonGridWithinOnePeriod() {
        Duration period = MemoryProjection.FAST;
        long a = MemoryProjection.nextOnGrid(1_000_003_000L, period);
        long b = MemoryProjection.nextOnGrid(1_070_000_000L, period);
        assertEquals(1_100_000_000L, a, "spawned at different times...");
        assertEquals(a, b, "...read in the same wake-up");
        assertEquals(1_200_000_000L, MemoryProjection.nextOnGrid(1_100_000_000L, period), "on the grid: one period on");
        assertEquals(-100_000_000L, MemoryProjection.nextOnGrid(-150_000_000L, period), "nanoTime may be negative");
        assertEquals(1_025_000_000L, MemoryProjection.nextOnGrid(1_003_000_000L, MemoryProjection.CLOSE),
                "the 25 ms grid holds the 100 ms one");
    }

    @Test
    void theWindowForgetsOldReadings() {
        grow(100, 0, 100, 30); // 3 s of readings at 100 ms
        assertTrue(p.readings() <= 21, "a 2 s window: " + p.readings());
        grow(100, 0, 1000, 5);
        assertTrue(p.readings() <= 3, "at 1 s, two or three: " + p.readings());
    }

    @Test
    void theCeilingDeadlineIsTheTimeToFivePercentOverHardWithinBounds() {
        Duration graceful = Duration.ofSeconds(30);
        assertEquals(Duration.ofMillis(3000), MemoryProjection.ceilingDeadline(600 * MIB, 600 * MIB, 10.0 * MIB,
                graceful), "30 MiB of headroom at 10 MiB/s");
        assertEquals(Duration.ofSeconds(2), MemoryProjection.ceilingDeadline(600 * MIB, 600 * MIB, 150.0 * MIB,
                graceful), "30 MiB of headroom at 150 MiB/s is 0.2 s: the minimum, time for the exit and histogram");
        assertEquals(Duration.ofSeconds(2), MemoryProjection.ceilingDeadline(640 * MIB, 600 * MIB, 150.0 * MIB,
                graceful), "past 1.05 x already: the minimum");
        assertEquals(Duration.ofSeconds(1), MemoryProjection.ceilingDeadline(600 * MIB, 600 * MIB, 150.0 * MIB,
                Duration.ofSeconds(1)), "never past graceful-timeout");
        assertEquals(graceful, MemoryProjection.ceilingDeadline(600 * MIB, 600 * MIB, 0, graceful), "not growing");
        assertEquals(Duration.ofSeconds(2), MemoryProjection.ceilingDeadline(600 * MIB, 600 * MIB, 1.0 * MIB,
                Duration.ofSeconds(2)), "slow growth: graceful-timeout");
    }
}
