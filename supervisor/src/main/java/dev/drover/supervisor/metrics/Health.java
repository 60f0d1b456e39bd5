package dev.drover.supervisor.metrics;

import java.util.concurrent.TimeUnit;

/**
 * Liveness and readiness, judged from the latest snapshot alone (so a stuck arbiter is seen as one, not waited
 * for): alive while the arbiter's loop has published within {@link #ALIVE_WITHIN_NANOS}; ready while alive, not
 * stopping, and at least metrics.ready-min-workers workers serve.
 *
 * @param reason one line on what was found, for the probe's body and `drover ctl health`
 */
public record Health(boolean alive, boolean ready, String reason) {

    /** The loop publishes every second (its tick); a few missed ticks mean it is stuck. */
    public static final long ALIVE_WITHIN_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** `drover ctl health` exit codes, documented in CtlCommand and the README. */
    public static final int EXIT_READY = 0;
    public static final int EXIT_NOT_READY = 1;
    public static final int EXIT_NOT_ALIVE = 3;

    public static Health of(Snapshot s, long now) {
        if (s == null) {
            return new Health(false, false, "the master's loop has not started yet");
        }
        long silentMs = TimeUnit.NANOSECONDS.toMillis(now - s.takenAt());
        if (now - s.takenAt() > ALIVE_WITHIN_NANOS) {
            return new Health(false, false, "the master's loop has not turned for " + silentMs + " ms (expected: "
                    + "every second); it is stuck or stopped");
        }
        long serving = s.serving();
        String workers = serving + " worker(s) serving of " + s.wanted() + " wanted (ready from "
                + s.readyMinWorkers() + "), generation " + s.generation();
        if (s.stopping()) {
            return new Health(true, false, "the master is stopping; " + workers);
        }
        if (serving < s.readyMinWorkers()) {
            return new Health(true, false, (s.paused() ? "paused; " : "") + workers);
        }
        return new Health(true, true, workers);
    }

    public int exitCode() {
        return ready ? EXIT_READY : alive ? EXIT_NOT_READY : EXIT_NOT_ALIVE;
    }

    /** /healthz: 200 or 503. */
    public int livenessStatus() {
        return alive ? 200 : 503;
    }

    /** /readyz: 200 or 503. */
    public int readinessStatus() {
        return ready ? 200 : 503;
    }

    /** The probe's body and `drover ctl health`'s line: "ready: ...", "alive, not ready: ...", "not alive: ...". */
    public String line() {
        return (ready ? "ready" : alive ? "alive, not ready" : "not alive") + ": " + reason;
    }
}
