package dev.drover.supervisor.arbiter;

import dev.drover.link.ExitCodes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's stop: graceful (every worker drains within graceful-timeout) or quick (INT and a short deadline),
 * SIGKILL for whoever is still there at the deadline, and the exit code the master ends with. A graceful stop asked
 * for by TERM or `drover ctl stop` may first wait drover.shutdown-delay, every worker still serving, while the
 * master already counts as stopping (readiness fails, no reload, no respawn): load balancers that remove an endpoint
 * only some time after the TERM (Kubernetes) still get answers meanwhile. A second stop, or INT, ends the wait.
 */
final class Shutdown {

    private static final Logger log = LoggerFactory.getLogger(Shutdown.class);
    /** On a quick stop (INT), how long workers get to exit before SIGKILL. */
    static final Duration QUICK_STOP_TIMEOUT = Duration.ofSeconds(2);

    private final Workers workers;
    private final Respawns respawns;
    private final LongSupplier clock;
    /** Told why, when the stop begins (reload clients stop waiting). */
    private final List<Consumer<String>> onBegin = new ArrayList<>();

    private boolean underway;
    /** A quick stop (INT) is under way: every worker's exit from now on is a stop, not a crash. */
    private boolean quick;
    private long deadline;
    /** Under a shutdown-delay: when the drain begins (monotonic ns); -1 when not delaying. */
    private long delayEnds = -1;
    /** The onBegin listeners were told (at the delay's start, or the stop's). */
    private boolean announced;
    private int exitCode = ExitCodes.OK;

    Shutdown(Workers workers, Respawns respawns, LongSupplier clock) {
        this.workers = workers;
        this.respawns = respawns;
        this.clock = clock;
    }

    void onBegin(Consumer<String> listener) {
        onBegin.add(listener);
    }

    /** A stop asked for by a signal or `drover ctl`; returns what it does. */
    String stop(boolean graceful, String source) {
        Duration delay = workers.shutdownDelay();
        if (graceful && !underway && !delay.isZero()) {
            delay(delay, source);
            return "graceful stop of " + workers.size() + " worker(s) in " + Arbiter.seconds(delay)
                    + " (drover.shutdown-delay); serving until then, not ready";
        }
        begin(graceful, ExitCodes.OK, source);
        return (graceful ? "graceful" : "quick") + " stop of " + workers.size() + " worker(s) under way";
    }

    /** A quick stop may overtake a graceful one; a second graceful stop changes nothing, unless it ends a delay. */
    void begin(boolean graceful, int code, String why) {
        if (underway && graceful && delayEnds == -1) {
            log.info("{}: already stopping", why);
            return;
        }
        if (delayEnds != -1) {
            log.info("{}: the stop begins now, before drover.shutdown-delay is over", why);
        }
        delayEnds = -1;
        underway = true;
        quick |= !graceful;
        exitCode = code;
        announce(why);
        Duration timeout = graceful ? workers.gracefulTimeout() : QUICK_STOP_TIMEOUT;
        deadline = clock.getAsLong() + timeout.toNanos();
        log.info("{}: {} stop of {} worker(s), at most {} ({})", why, graceful ? "graceful" : "quick", workers.size(),
                Arbiter.seconds(timeout), graceful ? "drover.graceful-timeout" : "quick stop");
        if (graceful) {
            // Spares first: they never accepted, so they simply exit, and none is promoted meanwhile.
            // Standby JVMs too: no app runs there.
            List.copyOf(workers.all()).stream().filter(w -> w.isSpare() || w.is(WorkerState.STANDBY))
                    .filter(w -> !w.is(WorkerState.DRAINING) && !w.is(WorkerState.KILLED))
                    .forEach(w -> workers.drain(w, null));
        }
        for (WorkerHandle w : List.copyOf(workers.all())) {
            if (!graceful) {
                workers.interrupt(w);
            } else if (w.state().holdsSlot()) {
                workers.drain(w, null);
            }
        }
    }

    /** Stopping from now on, draining only once {@code delay} is over; the workers serve on meanwhile. */
    private void delay(Duration delay, String why) {
        underway = true;
        delayEnds = clock.getAsLong() + delay.toNanos();
        announce(why);
        log.info("{}: serving on with {} worker(s) for {} (drover.shutdown-delay), not ready, then a graceful stop",
                why, workers.size(), Arbiter.seconds(delay));
    }

    /** Respawns end and listeners hear of the stop once, when it is first asked for (the delay's start). */
    private void announce(String why) {
        respawns.stop();
        if (!announced) {
            announced = true;
            onBegin.forEach(listener -> listener.accept(why));
        }
    }

    /** When the delay ends (monotonic ns), Long.MAX_VALUE if there is none, for the loop's wait. */
    long delayEndsAt() {
        return delayEnds == -1 ? Long.MAX_VALUE : delayEnds;
    }

    /** Begins the graceful stop once the delay is over; returns whether it did. */
    boolean endDelayIfDue(long now) {
        if (delayEnds == -1 || now - delayEnds < 0) {
            return false;
        }
        begin(true, ExitCodes.OK, "drover.shutdown-delay over");
        return true;
    }

    /** On every tick: past the deadline, SIGKILL for every worker still there. */
    void killOverdue(long now) {
        if (underway && delayEnds == -1 && now - deadline >= 0) {
            workers.killAll("did not stop in time");
        }
    }

    boolean underway() {
        return underway;
    }

    boolean quick() {
        return quick;
    }

    int exitCode() {
        return exitCode;
    }
}
