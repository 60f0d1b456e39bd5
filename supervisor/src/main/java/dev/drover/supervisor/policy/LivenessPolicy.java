package dev.drover.supervisor.policy;

import java.time.Duration;

/**
 * Tells a booting worker that takes too long and a hung worker from a busy or paused one.
 * <p>A worker's event loops check in every 200 ms; its STATS report how long the slowest has not
 * ({@code loop_stall_ms}), minus any time the whole JVM was paused, which the reporting thread measures as its own
 * lateness. A stop-the-world GC pause stops every thread alike, so it never counts as a stall: only a loop stuck
 * while the rest of the JVM runs does. A busy loop that keeps finishing tasks keeps checking in. A JVM that sends
 * nothing at all for {@code timeout} plus the grace below is treated as hung too (swapped out, stopped, or in a pause
 * longer than any service can afford).
 * <p>A jar or main-class worker (Tomcat, Jetty) has no event loops of Drover's; its STATS report instead how long its
 * oldest request has been running ({@code request_stall_ms}; 0 from a DroverApp worker). A request running for
 * {@code timeout} is a stuck request thread: treated as a hang, so that its stack reaches the log.
 */
public final class LivenessPolicy {

    /** Silence tolerated beyond {@code timeout} before a worker that reports nothing is declared hung. */
    public static final Duration SILENCE_GRACE = Duration.ofSeconds(5);

    public enum Verdict { ALIVE, BOOT_TIMEOUT, HUNG, STUCK_REQUEST, SILENT }

    private final Duration timeout;
    private final Duration bootTimeout;

    public LivenessPolicy(Duration timeout, Duration bootTimeout) {
        this.timeout = timeout;
        this.bootTimeout = bootTimeout;
    }

    /**
     * @param booting whether the worker has not reported READY yet
     * @param sinceSpawnNanos time since it was spawned
     * @param sinceReportNanos time since its last READY or STATS
     * @param loopStallMs the stall in its last STATS
     * @param requestStallMs the age of its oldest request in flight, in its last STATS
     */
    public Verdict check(boolean booting, long sinceSpawnNanos, long sinceReportNanos, long loopStallMs,
                         long requestStallMs) {
        if (booting) {
            return sinceSpawnNanos >= bootTimeout.toNanos() ? Verdict.BOOT_TIMEOUT : Verdict.ALIVE;
        }
        if (loopStallMs >= timeout.toMillis()) {
            return Verdict.HUNG;
        }
        if (requestStallMs >= timeout.toMillis()) {
            return Verdict.STUCK_REQUEST;
        }
        if (sinceReportNanos >= timeout.plus(SILENCE_GRACE).toNanos()) {
            return Verdict.SILENT;
        }
        return Verdict.ALIVE;
    }

    public Duration timeout() {
        return timeout;
    }

    public Duration bootTimeout() {
        return bootTimeout;
    }
}
