package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.policy.RestartPolicy;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * When the next worker may be spawned: RestartPolicy's backoff after workers that die or are killed young, and a
 * pause after a spawn that failed. Once the master stops, exits no longer count.
 */
final class Respawns {

    private final RestartPolicy restarts = new RestartPolicy();
    private final LongSupplier clock;
    private long notBefore;
    private boolean stopped;

    Respawns(LongSupplier clock) {
        this.clock = clock;
        this.notBefore = clock.getAsLong();
    }

    boolean allowedNow() {
        return clock.getAsLong() - notBefore >= 0;
    }

    void workerReady() {
        restarts.workerReady();
    }

    /**
     * Hard-limit and hang kills of young workers slow the respawns down, as crashes do, so an app that crosses the
     * hard limit right after READY is not killed and respawned every second for ever. Decided at the kill, because
     * the replacement is spawned then, not when the killed JVM's exit arrives.
     */
    void forcedExit(Duration age) {
        if (!stopped) {
            notBefore = restarts.forcedExit(age, clock.getAsLong());
        }
    }

    /**
     * A worker killed at its hard limit, or dead of OutOfMemoryError: no backoff unless it got there within its
     * boot (RestartPolicy.memoryExit). {@code sinceReady}: null if it never was READY.
     */
    void memoryExit(Duration sinceReady) {
        if (!stopped) {
            restarts.memoryExit(sinceReady, clock.getAsLong()).ifPresent(t -> notBefore = Math.max(notBefore, t));
        }
    }

    /** An exit nobody asked for; the verdict says whether the master must stop instead. */
    RestartPolicy.Verdict unplannedExit(boolean wasReady, Duration age, int status) {
        RestartPolicy.Verdict verdict = restarts.unplannedExit(wasReady, age, status, clock.getAsLong());
        if (!verdict.haltMaster()) {
            notBefore = verdict.respawnNotBefore();
        }
        return verdict;
    }

    /** A JVM could not be started at all: try again in a while. */
    void spawnFailed() {
        notBefore = clock.getAsLong() + RestartPolicy.MAX_DELAY.toNanos();
    }

    Duration delay() {
        return restarts.delay();
    }

    void stop() {
        stopped = true;
    }

    /** How a kill's log line ends: when the replacement comes. */
    String replacementWhen() {
        Duration delay = Duration.ofNanos(Math.max(0, notBefore - clock.getAsLong()));
        return delay.isZero() || stopped ? "a replacement starts now"
                : "workers keep being killed young: the replacement starts in " + Arbiter.seconds(delay);
    }
}
