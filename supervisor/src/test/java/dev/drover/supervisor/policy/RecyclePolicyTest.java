package dev.drover.supervisor.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drover.supervisor.config.MemoryLimits;
import dev.drover.supervisor.config.RecycleLimits;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RecyclePolicyTest {

    private static final long MIB = 1 << 20;
    private static final long SECOND = 1_000_000_000L;

    private static RecyclePolicy policy(long maxRequests, long jitter, Duration lifetime, Duration lifetimeJitter) {
        return new RecyclePolicy(new RecycleLimits(maxRequests, jitter, lifetime, lifetimeJitter, 1,
                RecycleLimits.RELOAD_SURGE_ALL, 0, 0, false, 0), MemoryLimits.OFF);
    }

    @Test
    void aReloadHasItsOwnSurgeOnceItsCanaryServes() {
        RecyclePolicy surge3 = new RecyclePolicy(new RecycleLimits(0, 0, Duration.ZERO, Duration.ZERO, 1, 3, 0, 0, true, 0),
                MemoryLimits.OFF);
        assertEquals(1, surge3.surge(RecycleReason.RELOAD, true), "the canary boots alone");
        assertEquals(3, surge3.surge(RecycleReason.RELOAD, false));
        assertEquals(1, surge3.surge(RecycleReason.MAX_REQUESTS, false), "planned recycles keep max-surge");
        assertEquals(2, surge3.surge(RecycleReason.MEMORY_PROJECTED, true), "an emergency: max-surge + 1");
        assertEquals(Integer.MAX_VALUE, policy(0, 0, Duration.ZERO, Duration.ZERO).surge(RecycleReason.RELOAD, false),
                "all");
        RecyclePolicy together = new RecyclePolicy(new RecycleLimits(0, 0, Duration.ZERO, Duration.ZERO, 1, 3, 0,
                0, false, 0), MemoryLimits.OFF);
        assertEquals(3, together.surge(RecycleReason.RELOAD, true), "reload-canary = together: the rest boots beside it");
        assertEquals(1, together.surge(RecycleReason.MAX_REQUESTS, true), "planned recycles keep max-surge");
    }

    @Test
    void limitsAreDrawnPerWorkerWithinBasePlusJitter() {
        RecyclePolicy policy = policy(1000, 50, Duration.ofHours(1), Duration.ofMinutes(10));
        Random random = new Random(7);
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            RecyclePolicy.Limits limits = policy.draw(random);
            assertTrue(limits.requests() >= 1000 && limits.requests() <= 1050, "requests " + limits.requests());
            assertTrue(limits.lifetimeNanos() >= Duration.ofHours(1).toNanos()
                    && limits.lifetimeNanos() <= Duration.ofMinutes(70).toNanos());
            seen.add(limits.requests());
        }
        assertTrue(seen.size() > 40, "jitter spreads the limits: " + seen.size() + " distinct of 51");
        assertTrue(seen.contains(1000L) && seen.contains(1050L), "both ends are reachable");
    }

    @Test
    void zeroMeansNoLimit() {
        RecyclePolicy.Limits limits = policy(0, 10, Duration.ZERO, Duration.ofSeconds(5)).draw(new Random(1));
        assertEquals(new RecyclePolicy.Limits(0, 0), limits);
        assertEquals(Optional.empty(), policy(0, 0, Duration.ZERO, Duration.ZERO)
                .plannedReason(limits, Long.MAX_VALUE / 2, Long.MAX_VALUE / 2));
    }

    @Test
    void requestLimitThenLifetime() {
        RecyclePolicy policy = policy(100, 0, Duration.ofSeconds(60), Duration.ZERO);
        RecyclePolicy.Limits limits = policy.draw(new Random(1));
        assertEquals(Optional.empty(), policy.plannedReason(limits, 99, 59 * SECOND));
        assertEquals(Optional.of(RecycleReason.MAX_REQUESTS), policy.plannedReason(limits, 100, 10 * SECOND));
        assertEquals(Optional.of(RecycleReason.MAX_LIFETIME), policy.plannedReason(limits, 5, 60 * SECOND));
        assertEquals(Optional.of(RecycleReason.MAX_REQUESTS), policy.plannedReason(limits, 100, 60 * SECOND));
    }

    @Test
    void memoryLimitsAndTheirGrace() {
        RecyclePolicy policy = new RecyclePolicy(RecycleLimits.OFF,
                new MemoryLimits(MemoryLimits.Metric.RSS, 200 * MIB, Duration.ofSeconds(3), 300 * MIB));
        assertFalse(policy.overSoftLimit(200 * MIB));
        assertTrue(policy.overSoftLimit(200 * MIB + 1));
        assertFalse(policy.overHardLimit(300 * MIB));
        assertTrue(policy.overHardLimit(300 * MIB + 1));
        assertFalse(policy.softGraceExpired(10 * SECOND, 12 * SECOND));
        assertTrue(policy.softGraceExpired(10 * SECOND, 13 * SECOND));
        assertFalse(policy.needsRollup(400 * MIB), "with the rss metric, smaps_rollup is never needed for limits");
    }

    @Test
    void pssAndUssAreReadOnlyWhenRssIsOverALimit() {
        RecyclePolicy pss = new RecyclePolicy(RecycleLimits.OFF,
                new MemoryLimits(MemoryLimits.Metric.PSS, 200 * MIB, Duration.ofSeconds(3), 0));
        assertFalse(pss.needsRollup(150 * MIB), "RSS under the limit: PSS is under it too");
        assertTrue(pss.needsRollup(200 * MIB));
        RecyclePolicy hardOnly = new RecyclePolicy(RecycleLimits.OFF,
                new MemoryLimits(MemoryLimits.Metric.USS, 0, Duration.ofSeconds(3), 300 * MIB));
        assertFalse(hardOnly.needsRollup(299 * MIB));
        assertTrue(hardOnly.needsRollup(300 * MIB));
        RecyclePolicy off = new RecyclePolicy(RecycleLimits.OFF,
                new MemoryLimits(MemoryLimits.Metric.PSS, 0, Duration.ofSeconds(3), 0));
        assertFalse(off.needsRollup(Long.MAX_VALUE));
    }
}
