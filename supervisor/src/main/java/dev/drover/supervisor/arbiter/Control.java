package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.control.Json;
import dev.drover.supervisor.os.Logs;
import dev.drover.supervisor.policy.RecycleReason;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out {@link Command}s, from signals and from `drover ctl`, on the arbiter thread. Every command answers
 * with what it did ({@code {"ok": "..."}}) or why it did nothing ({@code {"error": "..."}}); status answers with
 * the status document.
 */
final class Control {

    private static final Logger log = LoggerFactory.getLogger(Control.class);

    /** A command that was refused; its message says why. */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    /** How old a PSS/USS reading `drover ctl status` accepts. */
    static final long STATUS_ROLLUP_MAX_AGE_MS = 1000;

    private final Arbiter arbiter;

    Control(Arbiter arbiter) {
        this.arbiter = arbiter;
    }

    /** A `drover ctl` line; returns the JSON answer. */
    String answer(String line) {
        Command.Parsed parsed;
        try {
            parsed = Command.parse(line);
        } catch (IllegalArgumentException e) {
            return Json.write(Map.of("error", e.getMessage()));
        }
        if (parsed.command() == Command.STATUS) {
            return Json.write(status());
        }
        try {
            String done = execute(parsed.command(), parsed.argument(), "drover ctl " + line.trim());
            return Json.write(Map.of("ok", done));
        } catch (Refused e) {
            return Json.write(Map.of("error", e.getMessage()));
        }
    }

    /** A signal: the same command as its ctl form; the outcome goes to the log. */
    void signal(String name) {
        Command command = Command.forSignal(name).orElse(null);
        if (command == null) {
            log.warn("SIG{} received: not a command; ignored", name);
            return;
        }
        try {
            execute(command, -1, "SIG" + name);
        } catch (Refused e) {
            log.warn("SIG{} ({}): {}", name, command.usage(), e.getMessage());
        }
    }

    private String execute(Command command, int argument, String source) throws Refused {
        return switch (command) {
            case RELOAD -> generations().reload(source);
            case STOP -> arbiter.stop(true, source);
            case STOP_QUICK -> arbiter.stop(false, source);
            case INCR -> generations().scale(generations().targetWorkers() + 1, source);
            case DECR -> generations().scale(generations().targetWorkers() - 1, source);
            case SCALE -> generations().scale(argument, source);
            case RECYCLE -> generations().recycle(argument, source);
            case REOPEN_LOGS -> reopenLogs(source);
            case PAUSE -> generations().pause(source);
            case STATUS -> throw new IllegalStateException("status is answered, not executed");
        };
    }

    private Generations generations() {
        return arbiter.generations();
    }

    private static String reopenLogs(String source) {
        int reopened = Logs.reopen();
        String done = reopened == 0 ? "no log file to reopen (logging to stdout)" : "reopened the log file";
        log.info("{}: {}", source, done);
        return done;
    }

    private Map<String, Object> status() {
        long now = arbiter.now();
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("pid", ProcessHandle.current().pid());
        status.put("generation", arbiter.generation());
        status.put("workers_wanted", generations().targetWorkers());
        status.put("paused", generations().paused());
        status.put("reload", generations().reloadPhase());
        status.put("uptime_seconds", TimeUnit.NANOSECONDS.toSeconds(now - arbiter.startedAt()));
        Map<String, Object> recycles = new LinkedHashMap<>();
        for (RecycleReason reason : RecycleReason.values()) {
            recycles.put(reason.label(), arbiter.recycles().getOrDefault(reason, 0L));
        }
        status.put("recycles", recycles);
        List<Map<String, Object>> workers = new ArrayList<>();
        for (WorkerHandle w : arbiter.workers()) {
            // A status reader wants today's PSS, not the one from the last 10-second period: ~1-2 ms per worker.
            arbiter.recycler().refreshRollup(w, now, STATUS_ROLLUP_MAX_AGE_MS);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", w.id);
            row.put("pid", w.pid);
            row.put("generation", w.generation);
            row.put("state", w.state.label());
            row.put("requests", w.requests);
            row.put("request_limit", w.limits.requests());
            row.put("inflight", w.inflight);
            row.put("rss_bytes", Math.max(0, w.rssBytes));
            row.put("pss_bytes", Math.max(0, w.pssBytes));
            row.put("uss_bytes", Math.max(0, w.ussBytes));
            row.put("age_seconds", TimeUnit.NANOSECONDS.toSeconds(now - w.spawnedAt));
            row.put("recycle_reason", w.recycleReason == null ? "" : w.recycleReason.label());
            workers.add(row);
        }
        status.put("workers", workers);
        return status;
    }
}
