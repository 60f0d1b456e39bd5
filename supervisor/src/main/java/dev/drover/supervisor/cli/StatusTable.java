package dev.drover.supervisor.cli;

import com.typesafe.config.Config;
import dev.drover.supervisor.policy.RecycleReason;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Renders the master's status answer as the table `drover ctl status` prints. */
final class StatusTable {

    private static final String[] COLUMNS = {"id", "pid", "generation", "state", "requests", "request_limit",
        "rss_bytes", "pss_bytes", "age_seconds", "app"};
    private static final String[] HEADERS = {"ID", "PID", "GEN", "STATE", "REQUESTS", "LIMIT", "RSS_BYTES", "PSS_BYTES",
        "AGE_S", "APP"};

    private StatusTable() {
    }

    static String render(Config status) {
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADERS);
        for (Config worker : status.getConfigList("workers")) {
            String[] row = new String[COLUMNS.length];
            for (int i = 0; i < COLUMNS.length; i++) {
                // A master from before the column existed answers without it.
                row[i] = worker.hasPath(COLUMNS[i]) ? worker.getValue(COLUMNS[i]).unwrapped().toString() : "";
            }
            rows.add(row);
        }
        int[] width = new int[COLUMNS.length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        long spares = status.getConfigList("workers").stream().filter(w -> w.hasPath("spare") && w.getBoolean("spare"))
                .count();
        long standbys = status.getConfigList("workers").stream()
                .filter(w -> w.hasPath("standby") && w.getBoolean("standby")).count();
        out.append("master ").append(status.getLong("pid")).append("  generation ").append(status.getInt("generation"))
                .append("  workers ").append(status.getConfigList("workers").size() - spares - standbys)
                .append(" (wanted ").append(status.getInt("workers_wanted")).append(')');
        if (status.hasPath("spare_workers") && (spares > 0 || status.getInt("spare_workers") > 0)) {
            out.append("  spares ").append(spares).append(" (wanted ").append(status.getInt("spare_workers")).append(')');
        }
        if (status.hasPath("standby_jvms") && (standbys > 0 || status.getInt("standby_jvms") > 0)) {
            out.append("  standby JVMs ").append(standbys).append(" (wanted ").append(status.getInt("standby_jvms"))
                    .append(')');
        }
        out.append("  up ").append(status.getLong("uptime_seconds")).append("s\n");
        if (status.hasPath("reload_surge")) {
            String last = status.hasPath("last_reload") ? status.getString("last_reload") : "";
            out.append("reload: ").append(status.getString("reload")).append(", reload-surge ")
                    .append(status.getString("reload_surge")).append(last.isEmpty() ? "" : "; last one " + last)
                    .append('\n');
        }
        out.append("recycles:");
        // In RecycleReason's order (planned first), whatever order the JSON's keys come in.
        Map<String, Object> counts = new TreeMap<>(status.getConfig("recycles").root().unwrapped());
        for (RecycleReason reason : RecycleReason.values()) {
            Object n = counts.remove(reason.label());
            if (n != null) {
                out.append(' ').append(reason.label()).append('=').append(n);
            }
        }
        counts.forEach((reason, n) -> out.append(' ').append(reason).append('=').append(n));
        out.append('\n');
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(String.format("%-" + (width[i] + 2) + "s", row[i]));
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        return out.toString().stripTrailing();
    }
}
