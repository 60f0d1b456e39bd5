package dev.drover.supervisor.policy;

import dev.drover.link.ExitCodes;
import java.time.Duration;
import java.util.OptionalLong;

/**
 * Decides what an unplanned worker exit means: at startup, a worker that dies before READY stops the master
 * (exit 3, or 4 for an app that cannot load) instead of looping; later, workers that keep dying young are
 * respawned after an exponential backoff instead of in a storm. Pure: time comes in as arguments.
 */
public final class RestartPolicy {

    /** A worker that dies younger than this counts as a failed start. */
    public static final Duration YOUNG = Duration.ofSeconds(10);
    /** The first retry after a failed start waits this long; each further failure doubles it... */
    public static final Duration FIRST_DELAY = Duration.ofMillis(500);
    /** ...up to this. */
    public static final Duration MAX_DELAY = Duration.ofSeconds(30);
    /** A worker over its memory this soon after READY counts as one that cannot boot within its limits. */
    public static final Duration MEMORY_BOOT_MARGIN = Duration.ofSeconds(1);

    /** What to do after an unplanned exit. */
    public record Verdict(boolean haltMaster, int exitCode, long respawnNotBefore) {
    }

    private boolean everReady;
    private int consecutiveFailures;

    /** A worker became READY: the app can boot. */
    public void workerReady() {
        everReady = true;
    }

    /**
     * A worker exited without being asked to.
     * @param wasReady whether it had reported READY
     * @param age how long it lived
     * @param status its exit status
     * @param now the monotonic clock in nanoseconds
     */
    public Verdict unplannedExit(boolean wasReady, Duration age, int status, long now) {
        if (!everReady && !wasReady) {
            int code = status == ExitCodes.APP_LOAD_ERROR ? ExitCodes.APP_LOAD_ERROR : ExitCodes.WORKER_BOOT_ERROR;
            return new Verdict(true, code, now);
        }
        if (!wasReady || age.compareTo(YOUNG) < 0) {
            consecutiveFailures++;
        } else {
            consecutiveFailures = 0;
        }
        return new Verdict(false, ExitCodes.OK, now + delay().toNanos());
    }

    /**
     * The master killed a worker it could not keep (hard memory limit, hang). A worker killed young is a failed
     * start like any other: an app that crosses the hard limit right after READY would otherwise be respawned and
     * killed about once a second, for ever. Returns the time before which the next worker must not spawn.
     */
    public long forcedExit(Duration age, long now) {
        if (age.compareTo(YOUNG) < 0) {
            consecutiveFailures++;
        } else {
            consecutiveFailures = 0;
        }
        return now + delay().toNanos();
    }

    /**
     * A worker left for memory (the hard limit, an OutOfMemoryError). That is the app's leak doing what the limits
     * are for, not a failed start: backing off would leave slots empty while the other workers leak as fast (a fast
     * leak killed young workers every second, and the doubling delay left no worker at all for seconds). Only a
     * worker that gets there within {@link #MEMORY_BOOT_MARGIN} of its READY, or before it, feeds the backoff: then
     * every replacement would do the same, and a recycle loop is the real risk. Returns the time before which the
     * next worker must not spawn, or empty if this exit changes nothing.
     * @param sinceReady time since its READY; null if it never was
     */
    public OptionalLong memoryExit(Duration sinceReady, long now) {
        if (sinceReady != null && sinceReady.compareTo(MEMORY_BOOT_MARGIN) > 0) {
            return OptionalLong.empty();
        }
        consecutiveFailures++;
        return OptionalLong.of(now + delay().toNanos());
    }

    /** The wait before the next respawn: zero after a healthy life, else doubling from FIRST_DELAY to MAX_DELAY. */
    public Duration delay() {
        if (consecutiveFailures == 0) {
            return Duration.ZERO;
        }
        int doublings = Math.min(consecutiveFailures - 1, 16);
        Duration delay = FIRST_DELAY.multipliedBy(1L << doublings);
        return delay.compareTo(MAX_DELAY) > 0 ? MAX_DELAY : delay;
    }
}
