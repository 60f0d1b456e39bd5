package dev.drover.supervisor.cli;

import com.typesafe.config.Config;
import java.util.List;
import java.util.Locale;

/** How `drover ctl leaks` and `drover ctl snapshot ID` print the master's answers for a person. */
final class LeakTables {

    private LeakTables() {
    }

    /** One line per report, newest first, each beginning with the report's ID. */
    static String list(Config reply) {
        List<? extends Config> leaks = reply.getConfigList("leaks");
        StringBuilder out = new StringBuilder();
        if (leaks.isEmpty()) {
            return "no leak reports in " + reply.getString("dir") + " (one is written at every memory recycle)\n";
        }
        for (Config r : leaks) {
            if (r.hasPath("unreadable")) {
                out.append(r.getString("id")).append("  (unreadable: ").append(r.getString("unreadable")).append(")\n");
                continue;
            }
            out.append(String.format(Locale.ROOT, "%s  worker %d (pid %d, gen %d)  %s  %s per 1,000 requests; "
                            + "top: %s %s%s%n", r.getString("id"), r.getInt("worker"), r.getLong("pid"),
                    r.getInt("generation"), r.getString("reason"), mib(r.getLong("bytes_per_1000_requests")),
                    r.getString("top_cause"), signedMib(r.getLong("top_cause_bytes")),
                    r.getString("top_class").isEmpty() ? "" : "; top class " + r.getString("top_class")));
        }
        return out.append("(").append(leaks.size()).append(" report(s) in ").append(reply.getString("dir"))
                .append("; `drover ctl leaks ID` prints one)\n").toString();
    }

    static String snapshot(Config reply) {
        Config w = reply.getConfig("worker");
        Config s = reply.getConfig("snapshot");
        Config r = s.getConfig("readings");
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
                "worker %d (pid %d, gen %d): live heap %s (used %s of %s committed), metaspace %s, %d classes, "
                        + "direct buffers %s, %d threads%n", w.getInt("id"), w.getLong("pid"), w.getInt("generation"),
                mib(r.getLong("heap_live")), mib(r.getLong("heap_used")), mib(r.getLong("heap_committed")),
                mib(r.getLong("metaspace")), r.getLong("classes"), mib(r.getLong("direct")), r.getLong("threads")));
        out.append("\nclasses holding the most live heap:\n");
        classes(out, s.getConfigList("top_classes"), false);
        if (s.hasPath("grown_classes")) {
            Config b = s.getConfig("baseline_readings");
            out.append(String.format(Locale.ROOT, "%nsince its baseline: live heap %s, metaspace %s, classes %+d, "
                            + "direct buffers %s, threads %+d; classes that grew most:%n",
                    signedMib(r.getLong("heap_live") - b.getLong("heap_live")),
                    signedMib(r.getLong("metaspace") - b.getLong("metaspace")), r.getLong("classes") - b.getLong("classes"),
                    signedMib(r.getLong("direct") - b.getLong("direct")), r.getLong("threads") - b.getLong("threads")));
            classes(out, s.getConfigList("grown_classes"), true);
        } else {
            out.append("\n(no baseline yet: it is taken drover.leak-reports.baseline-after after READY, with memory "
                    + "limits set)\n");
        }
        return out.toString();
    }

    private static void classes(StringBuilder out, List<? extends Config> classes, boolean signed) {
        out.append(String.format(Locale.ROOT, "  %12s %12s  %s%n", "bytes", "instances", "class"));
        for (Config c : classes) {
            out.append(String.format(Locale.ROOT, signed ? "  %12s %+12d  %s%n" : "  %12s %12d  %s%n",
                    signed ? signedMib(c.getLong("bytes")) : mib(c.getLong("bytes")), c.getLong("instances"),
                    c.getString("class")));
        }
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    private static String signedMib(long bytes) {
        return (bytes >= 0 ? "+" : "") + mib(bytes);
    }
}
