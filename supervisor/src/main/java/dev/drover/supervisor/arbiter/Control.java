package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.control.Json;
import dev.drover.supervisor.policy.RecycleReason;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The arbiter's answers to `drover ctl` commands, run on the arbiter thread. One table of commands; every answer
 * is a JSON object, with an "error" member when the command was refused.
 */
final class Control {

    /** Every command the control socket accepts, with what it does; `drover ctl --help` shows the same rows. */
    static final Map<String, String> COMMANDS = Map.of("status", "the master and every worker, as JSON");

    private final Arbiter arbiter;

    Control(Arbiter arbiter) {
        this.arbiter = arbiter;
    }

    String answer(String command) {
        return switch (command) {
            case "status" -> Json.write(status());
            default -> Json.write(Map.of("error", "unknown command \"" + command + "\" (expected one of: "
                    + String.join(", ", COMMANDS.keySet()) + ")"));
        };
    }

    private Map<String, Object> status() {
        long now = arbiter.now();
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("pid", ProcessHandle.current().pid());
        status.put("generation", arbiter.generation());
        status.put("workers_wanted", arbiter.settings().workers());
        status.put("uptime_seconds", TimeUnit.NANOSECONDS.toSeconds(now - arbiter.startedAt()));
        Map<String, Object> recycles = new LinkedHashMap<>();
        for (RecycleReason reason : RecycleReason.values()) {
            recycles.put(reason.label(), arbiter.recycles().getOrDefault(reason, 0L));
        }
        status.put("recycles", recycles);
        List<Map<String, Object>> workers = new ArrayList<>();
        for (WorkerHandle w : arbiter.workers()) {
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
