package dev.drover.supervisor.leaks;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import dev.drover.supervisor.control.Json;
import dev.drover.supervisor.os.AtomicFile;
import dev.drover.supervisor.os.PrivateDirectory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The reports directory (drover.leak-reports.dir): one ID.txt and one ID.json per report, the oldest pruned beyond
 * drover.leak-reports.keep. IDs start with the UTC time, so names sort oldest first. Reports outlive the master.
 */
public final class LeakReports {

    private static final String PRIVATE = "rw-------";

    private final Path dir;
    private final int keep;

    public LeakReports(Path dir, int keep) {
        this.dir = dir;
        this.keep = keep;
    }

    public Path dir() {
        return dir;
    }

    /**
     * Writes both files (each atomically, 0600: they name the app's classes and how its memory is used) into the
     * directory, created 0700 or verified to be ours and writable by us alone; prunes; returns the text file's path.
     */
    public Path write(LeakReport report) throws IOException {
        PrivateDirectory.createOrVerify(dir, PrivateDirectory.Rule.NOT_WRITABLE_BY_OTHERS);
        Path text = dir.resolve(report.id() + ".txt");
        AtomicFile.write(text, report.toText().getBytes(StandardCharsets.UTF_8), PRIVATE);
        AtomicFile.write(dir.resolve(report.id() + ".json"),
                (Json.write(report.toJson()) + "\n").getBytes(StandardCharsets.UTF_8), PRIVATE);
        prune();
        return text;
    }

    private void prune() throws IOException {
        List<String> ids = ids();
        for (int i = 0; i < ids.size() - keep; i++) {
            Files.deleteIfExists(dir.resolve(ids.get(i) + ".json"));
            Files.deleteIfExists(dir.resolve(ids.get(i) + ".txt"));
        }
    }

    /** Every report's ID, oldest first. */
    public List<String> ids() throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json"))
                    .map(n -> n.substring(0, n.length() - ".json".length())).sorted().toList();
        }
    }

    /** One report's JSON, parsed; empty if there is no such report (or it cannot be read). */
    public Optional<Config> json(String id) {
        if (!id.matches("[A-Za-z0-9_-]+")) {
            return Optional.empty(); // never a path outside the directory
        }
        Path file = dir.resolve(id + ".json");
        try {
            return Optional.of(ConfigFactory.parseString(Files.readString(file),
                    ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON)));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    public Optional<String> text(String id) {
        if (!id.matches("[A-Za-z0-9_-]+")) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.readString(dir.resolve(id + ".txt")));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** One line per report, newest first: what `drover ctl leaks` shows. */
    public List<Map<String, Object>> list() throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        List<String> ids = new ArrayList<>(ids());
        ids.sort(Comparator.reverseOrder());
        for (String id : ids) {
            Optional<Config> r = json(id);
            try {
                rows.add(row(id, r.orElseThrow(() -> new IllegalStateException("not valid JSON"))));
            } catch (RuntimeException e) {
                rows.add(Map.of("id", id, "unreadable", String.valueOf(e.getMessage()))); // older or damaged
            }
        }
        return rows;
    }

    private static Map<String, Object> row(String id, Config r) {
        {
            {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("id", id);
                row.put("created_at", r.getString("created_at"));
                row.put("worker", r.getInt("worker.id"));
                row.put("pid", r.getLong("worker.pid"));
                row.put("generation", r.getInt("worker.generation"));
                row.put("reason", r.getString("reason"));
                row.put("bytes_per_1000_requests", r.getLong("growth.bytes_per_1000_requests"));
                Config top = r.getConfigList("causes").get(0);
                row.put("top_cause", top.getString("cause"));
                row.put("top_cause_bytes", top.getLong("growth_bytes"));
                List<? extends Config> classes = !r.hasPath("app_classes") || r.getConfigList("app_classes").isEmpty()
                        ? r.getConfigList("classes") : r.getConfigList("app_classes");
                row.put("top_class", classes.isEmpty() || !top.getString("cause").equals("heap") ? ""
                        : classes.get(0).getString("class"));
                return row;
            }
        }
    }

    /** The earlier reports of the same app, for the comparison of growth rates, newest first (at most 5). */
    public List<LeakReport.Earlier> earlier(String app) throws IOException {
        List<LeakReport.Earlier> earlier = new ArrayList<>();
        List<String> ids = new ArrayList<>(ids());
        ids.sort(Comparator.reverseOrder());
        for (String id : ids) {
            Optional<Config> r = json(id);
            try {
                if (r.isPresent() && r.get().getString("worker.app").equals(app) && earlier.size() < 5) {
                    earlier.add(new LeakReport.Earlier(id, r.get().getInt("worker.generation"),
                            r.get().getLong("growth.bytes_per_1000_requests")));
                }
            } catch (RuntimeException e) {
                // an older or damaged report: not comparable
            }
        }
        return earlier;
    }
}
