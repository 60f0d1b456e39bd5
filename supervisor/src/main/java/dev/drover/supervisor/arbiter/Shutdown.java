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
 * SIGKILL for whoever is still there at the deadline, and the exit code the master ends with.
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
        begin(graceful, ExitCodes.OK, source);
        return (graceful ? "graceful" : "quick") + " stop of " + workers.size() + " worker(s) under way";
    }

    /** A quick stop may overtake a graceful one; a second graceful stop changes nothing. */
    void begin(boolean graceful, int code, String why) {
        if (underway && graceful) {
            log.info("{}: already stopping", why);
            return;
        }
        underway = true;
        quick |= !graceful;
        exitCode = code;
        respawns.stop();
        onBegin.forEach(listener -> listener.accept(why));
        Duration timeout = graceful ? workers.gracefulTimeout() : QUICK_STOP_TIMEOUT;
        deadline = clock.getAsLong() + timeout.toNanos();
        log.info("{}: {} stop of {} worker(s), at most {} ({})", why, graceful ? "graceful" : "quick", workers.size(),
                Arbiter.seconds(timeout), graceful ? "drover.graceful-timeout" : "quick stop");
        for (WorkerHandle w : List.copyOf(workers.all())) {
            if (!graceful) {
                workers.interrupt(w);
            } else if (w.state().holdsSlot()) {
                workers.drain(w, null);
            }
        }
    }

    /** On every tick: past the deadline, SIGKILL for every worker still there. */
    void killOverdue(long now) {
        if (underway && now - deadline >= 0) {
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
