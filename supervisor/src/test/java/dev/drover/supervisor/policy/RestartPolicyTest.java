package dev.drover.supervisor.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drover.link.ExitCodes;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RestartPolicyTest {

    private static final long NOW = 1_000_000_000L;

    @Test
    void aBootFailureBeforeAnyWorkerWasReadyHaltsTheMaster() {
        RestartPolicy policy = new RestartPolicy();
        RestartPolicy.Verdict v = policy.unplannedExit(false, Duration.ofMillis(300), ExitCodes.WORKER_BOOT_ERROR, NOW);
        assertTrue(v.haltMaster());
        assertEquals(ExitCodes.WORKER_BOOT_ERROR, v.exitCode());
        assertEquals(ExitCodes.APP_LOAD_ERROR,
                new RestartPolicy().unplannedExit(false, Duration.ZERO, ExitCodes.APP_LOAD_ERROR, NOW).exitCode());
        assertEquals(ExitCodes.WORKER_BOOT_ERROR, new RestartPolicy().unplannedExit(false, Duration.ZERO, 137, NOW)
                .exitCode(), "any death before the first READY is a boot failure");
    }

    @Test
    void afterAHealthyStartWorkersAreRespawnedAtOnce() {
        RestartPolicy policy = new RestartPolicy();
        policy.workerReady();
        RestartPolicy.Verdict v = policy.unplannedExit(true, Duration.ofMinutes(5), 137, NOW);
        assertFalse(v.haltMaster());
        assertEquals(NOW, v.respawnNotBefore());
    }

    @Test
    void workersThatKeepDyingYoungBackOffExponentiallyUpToTheCap() {
        RestartPolicy policy = new RestartPolicy();
        policy.workerReady();
        long[] expectedMs = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000};
        for (long ms : expectedMs) {
            RestartPolicy.Verdict v = policy.unplannedExit(false, Duration.ofMillis(200), 3, NOW);
            assertFalse(v.haltMaster(), "after a successful start, never halt");
            assertEquals(NOW + Duration.ofMillis(ms).toNanos(), v.respawnNotBefore());
        }
        policy.unplannedExit(true, Duration.ofMinutes(1), 137, NOW);
        assertEquals(Duration.ZERO, policy.delay(), "a long healthy life resets the backoff");
    }

    @Test
    void workersKilledYoungForTheHardLimitBackOffLikeCrashes() {
        RestartPolicy policy = new RestartPolicy();
        policy.workerReady();
        assertEquals(NOW + Duration.ofMillis(500).toNanos(), policy.forcedExit(Duration.ofSeconds(1), NOW));
        assertEquals(NOW + Duration.ofMillis(1000).toNanos(), policy.forcedExit(Duration.ofSeconds(1), NOW));
        assertEquals(NOW + Duration.ofMillis(2000).toNanos(), policy.forcedExit(Duration.ofSeconds(2), NOW));
        assertEquals(NOW, policy.forcedExit(Duration.ofMinutes(10), NOW), "a worker killed after a long life: at once");
        assertEquals(Duration.ZERO, policy.delay());
    }

    @Test
    void memoryExitsAfterTheBootDoNotBackOff() {
        RestartPolicy policy = new RestartPolicy();
        policy.workerReady();
        for (int i = 0; i < 5; i++) {
            assertTrue(policy.memoryExit(Duration.ofMillis(1500), NOW).isEmpty(), "killed 1.5 s after READY");
        }
        assertEquals(Duration.ZERO, policy.delay());
    }

    @Test
    void memoryExitsWithinTheBootBackOffLikeCrashes() {
        RestartPolicy policy = new RestartPolicy();
        policy.workerReady();
        assertEquals(NOW + Duration.ofMillis(500).toNanos(), policy.memoryExit(Duration.ofMillis(800), NOW).getAsLong());
        assertEquals(NOW + Duration.ofMillis(1000).toNanos(),
                policy.memoryExit(RestartPolicy.MEMORY_BOOT_MARGIN, NOW).getAsLong(), "1 s after READY: still the boot");
        assertEquals(NOW + Duration.ofMillis(2000).toNanos(), policy.memoryExit(null, NOW).getAsLong(),
                "never READY");
        assertTrue(policy.memoryExit(Duration.ofSeconds(3), NOW).isEmpty(), "a later one changes nothing...");
        assertEquals(Duration.ofMillis(2000), policy.delay(), "...not even the backoff so far");
    }
}
