package dev.drover.supervisor.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class LivenessPolicyTest {

    private static final long SECOND = 1_000_000_000L;
    private final LivenessPolicy policy = new LivenessPolicy(Duration.ofSeconds(30), Duration.ofSeconds(60));

    @Test
    void bootTimeoutIsSeparateFromTheHeartbeatTimeout() {
        assertEquals(LivenessPolicy.Verdict.ALIVE, policy.check(true, 59 * SECOND, 59 * SECOND, 0, 0),
                "a slow boot is not a hang: 59 s is over timeout but under boot-timeout");
        assertEquals(LivenessPolicy.Verdict.BOOT_TIMEOUT, policy.check(true, 60 * SECOND, 60 * SECOND, 0, 0));
    }

    @Test
    void aStuckEventLoopIsAHang() {
        assertEquals(LivenessPolicy.Verdict.ALIVE, policy.check(false, 100 * SECOND, SECOND, 29_999, 0));
        assertEquals(LivenessPolicy.Verdict.HUNG, policy.check(false, 100 * SECOND, SECOND, 30_000, 0));
    }

    @Test
    void aGcPauseIsNotAHang() {
        // After a 20 s stop-the-world pause the worker reports again; the pause is subtracted from the stall
        // it reports, and 20 s of silence is within timeout + grace.
        assertEquals(LivenessPolicy.Verdict.ALIVE, policy.check(false, 100 * SECOND, 20 * SECOND, 150, 0));
        assertEquals(LivenessPolicy.Verdict.ALIVE, policy.check(false, 100 * SECOND, 34 * SECOND, 0, 0));
    }

    @Test
    void aWorkerThatSaysNothingAtAllIsHungAfterTimeoutAndGrace() {
        assertEquals(LivenessPolicy.Verdict.SILENT, policy.check(false, 100 * SECOND, 35 * SECOND, 0, 0));
    }

    @Test
    void aRequestRunningForTimeoutIsAStuckRequest() {
        assertEquals(LivenessPolicy.Verdict.ALIVE, policy.check(false, 100 * SECOND, SECOND, 0, 29_999));
        assertEquals(LivenessPolicy.Verdict.STUCK_REQUEST, policy.check(false, 100 * SECOND, SECOND, 0, 30_000));
        assertEquals(LivenessPolicy.Verdict.HUNG, policy.check(false, 100 * SECOND, SECOND, 30_000, 30_000),
                "a stalled event loop is named first: it is the cause when both are reported");
        assertEquals(LivenessPolicy.Verdict.ALIVE, policy.check(true, 10 * SECOND, SECOND, 0, 60_000),
                "a booting worker is judged by boot-timeout alone");
    }
}
