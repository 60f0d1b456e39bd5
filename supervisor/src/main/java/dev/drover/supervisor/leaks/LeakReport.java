package dev.drover.supervisor.leaks;

import com.typesafe.config.Config;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a worker recycled for memory leaves behind: who it was and what limit it crossed, how fast its memory grew
 * after its warm-up (per 1,000 requests and per minute, and when a fresh worker will reach the soft limit), whether
 * earlier generations grew alike, where the memory went (live heap, metaspace and classes, direct buffers, threads,
 * other native memory: each as growth since the baseline, ranked), and which classes grew most on the heap (from
 * the worker's class histograms, baseline against end). Built by the master from its readings and the evidence file
 * the worker wrote before it exited; a worker that could not write one (killed at the hard limit, or too slow) still
 * gets a report from the readings.
 */
public final class LeakReport {

    /**
     * Native memory put down to each new thread at most (its stack as far as it was touched, with the default
     * -Xss512k, and the JVM's and libc's per-thread structures); the rest is "other native memory".
     */
    static final long MAX_BYTES_PER_THREAD = 512L << 10;
    /** Earlier reports whose rate is within this factor of this one's count as "the same rate". */
    static final double SAME_RATE_FACTOR = 1.5;

    /** What the master knows about the worker, besides its series and evidence. */
    public record Worker(int id, long pid, int generation, String app, long ageMs, long requests) {
    }

    /** Why it was recycled: the reason's label, the log's explanation, and the soft limit in bytes (0 = none). */
    public record Limit(String reason, String why, long softLimitBytes) {
    }

    /** One earlier report, for the comparison of rates. */
    public record Earlier(String id, int generation, double bytesPer1000Requests) {
    }

    /** One ranked cause: what grew and by how much (bytes), with a line of detail. */
    public record Cause(String name, long bytes, String detail) {
    }

    /** One class that grew on the heap: bytes and instances gained since the baseline. */
    public record GrownClass(String name, long bytes, long instances) {
    }

    private final String id;
    private final long createdAtMs;
    private final Worker worker;
    private final Limit limit;
    private final MemorySeries.Sample baseline;
    private final MemorySeries.Sample last;
    private final boolean baselineIsWarm;
    private final double per1000Requests;
    private final double perMinute;
    private final long projectedRequests;
    private final List<Earlier> earlier;
    private final String earlierVerdict;
    private final List<Cause> causes;
    private final List<GrownClass> grownClasses;
    private final List<GrownClass> grownAppClasses;
    private final String histogramNote;
    /** The requests the worker had in flight when it was stopped, as one phrase; what the worker wrote, or why not. */
    private final String inflightNote;
    private final List<MemorySeries.Sample> series;

    private LeakReport(String id, long createdAtMs, Worker worker, Limit limit, List<MemorySeries.Sample> series,
                       MemorySeries.Sample baseline, boolean baselineIsWarm, List<Earlier> earlier,
                       List<GrownClass> grownClasses, List<GrownClass> grownAppClasses, String histogramNote,
                       String inflightNote) {
        this.id = id;
        this.createdAtMs = createdAtMs;
        this.worker = worker;
        this.limit = limit;
        this.series = series;
        this.baseline = baseline;
        this.last = series.get(series.size() - 1);
        this.baselineIsWarm = baselineIsWarm;
        List<MemorySeries.Sample> grown = series.subList(series.indexOf(baseline), series.size());
        this.per1000Requests = 1000 * slope(grown, MemorySeries.Sample::requests);
        this.perMinute = 60_000 * slope(grown, MemorySeries.Sample::ageMs);
        this.projectedRequests = limit.softLimitBytes() > 0 && per1000Requests > 0
                ? baseline.requests() + (long) ((limit.softLimitBytes() - baseline.rss()) / per1000Requests * 1000) : -1;
        this.earlier = earlier;
        this.earlierVerdict = verdict(earlier, per1000Requests);
        this.causes = rank(baseline, last);
        this.grownClasses = grownClasses;
        this.grownAppClasses = grownAppClasses;
        this.histogramNote = histogramNote;
        this.inflightNote = inflightNote;
    }

    /**
     * Builds a report. {@code baselineAfterMs}: the warm-up, after which growth counts (the worker's baseline
     * histogram is taken then too). {@code evidence}: the worker's file, parsed, or null with {@code why} saying
     * why there is none.
     */
    public static LeakReport build(long createdAtMs, Worker worker, Limit limit, List<MemorySeries.Sample> series,
                                   long baselineAfterMs, Config evidence, String whyNoEvidence, List<Earlier> earlier) {
        if (series.isEmpty()) {
            series = List.of(new MemorySeries.Sample(worker.ageMs(), worker.requests(), 0, 0, 0, 0, 0, 0));
        }
        MemorySeries.Sample baseline = series.stream().filter(s -> s.ageMs() >= baselineAfterMs).findFirst()
                .orElse(series.get(0));
        boolean warm = baseline.ageMs() >= baselineAfterMs;
        if (baseline == series.get(series.size() - 1) && series.size() > 1) {
            baseline = series.get(0); // recycled right after its warm-up: measure from the first reading instead
            warm = false;
        }
        List<GrownClass> grown = new ArrayList<>();
        List<GrownClass> grownApp = new ArrayList<>();
        String note;
        if (evidence == null) {
            note = "no class histogram: " + whyNoEvidence;
        } else if (!evidence.hasPath("top_classes")) {
            note = "no class histogram: " + (evidence.hasPath("no_histogram") ? evidence.getString("no_histogram")
                    : "the worker's evidence holds none");
        } else if (!evidence.hasPath("grown_classes")) {
            note = "no baseline class histogram (the worker was recycled before its warm-up of "
                    + seconds(baselineAfterMs) + " ended); the classes holding the most heap at the end:";
            for (Config c : evidence.getConfigList("top_classes")) {
                grown.add(new GrownClass(c.getString("class"), c.getLong("bytes"), c.getLong("instances")));
            }
        } else {
            note = "classes that grew most between the baseline histogram (at age "
                    + seconds(evidence.getLong("baseline_at_ms") - (createdAtMs - worker.ageMs())) + ") and the end:";
            for (Config c : evidence.getConfigList("grown_classes")) {
                grown.add(new GrownClass(c.getString("class"), c.getLong("bytes"), c.getLong("instances")));
            }
            for (Config c : evidence.hasPath("grown_app_classes") ? evidence.getConfigList("grown_app_classes")
                    : List.<Config>of()) {
                grownApp.add(new GrownClass(c.getString("class"), c.getLong("bytes"), c.getLong("instances")));
            }
        }
        String id = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT).withZone(ZoneOffset.UTC)
                .format(Instant.ofEpochMilli(createdAtMs)) + "-w" + worker.id() + "-p" + worker.pid();
        return new LeakReport(id, createdAtMs, worker, limit, series, baseline, warm, earlier, grown, grownApp, note,
                inflight(evidence, whyNoEvidence));
    }

    /**
     * The requests in flight as the worker's evidence lists them (method, path, age), grouped by method and path,
     * the most first: "GET /leak (3 requests, oldest 12 ms)". Without evidence, or evidence that lists none (a
     * foreign worker does not), the runtime could not tell.
     */
    static String inflight(Config evidence, String whyNoEvidence) {
        if (evidence == null) {
            return "the runtime could not tell (" + whyNoEvidence + ")";
        }
        if (!evidence.hasPath("inflight")) {
            return "the runtime could not tell (this kind of worker does not list its requests)";
        }
        Map<String, long[]> byPath = new LinkedHashMap<>(); // method and path -> {count, oldest ms}
        for (Config r : evidence.getConfigList("inflight")) {
            long[] seen = byPath.computeIfAbsent(r.getString("method") + " " + r.getString("path"), k -> new long[2]);
            seen[0]++;
            seen[1] = Math.max(seen[1], r.getLong("age_ms"));
        }
        if (byPath.isEmpty()) {
            return "none";
        }
        List<String> groups = new ArrayList<>();
        byPath.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0])).forEach(e ->
                groups.add(e.getKey() + " (" + (e.getValue()[0] == 1 ? "1 request, " + e.getValue()[1] + " ms"
                        : e.getValue()[0] + " requests, oldest " + e.getValue()[1] + " ms") + ")"));
        return String.join(", ", groups);
    }

    /** The requests in flight when the worker was stopped (see {@link #inflight}). */
    public String inflightNote() {
        return inflightNote;
    }

    public String id() {
        return id;
    }

    public double bytesPer1000Requests() {
        return per1000Requests;
    }

    public List<Cause> causes() {
        return causes;
    }

    public List<GrownClass> grownClasses() {
        return grownClasses;
    }

    /** The app's own classes that grew most (they hold the arrays that lead {@link #grownClasses()}). */
    public List<GrownClass> grownAppClasses() {
        return grownAppClasses;
    }

    /**
     * Where the growth since the baseline went, biggest first. Live heap, metaspace and direct buffers are read
     * by the JVM itself; the rest of the RSS growth is native memory the JVM does not itemise, put down to new
     * threads (their stacks) as far as the thread count grew, and otherwise called other native memory.
     */
    static List<Cause> rank(MemorySeries.Sample base, MemorySeries.Sample end) {
        long heap = end.heapLive() - base.heapLive();
        long meta = end.metaspace() - base.metaspace();
        long direct = end.direct() - base.direct();
        long threads = end.threads() - base.threads();
        long rest = (end.rss() - base.rss()) - Math.max(0, heap) - Math.max(0, meta) - Math.max(0, direct);
        long toThreads = threads > 0 ? Math.max(0, Math.min(rest, threads * MAX_BYTES_PER_THREAD)) : 0;
        List<Cause> causes = new ArrayList<>(List.of(
                new Cause("heap", heap, "live heap after GC " + mib(base.heapLive()) + " -> " + mib(end.heapLive())),
                new Cause("metaspace and classes", meta, "metaspace " + mib(base.metaspace()) + " -> "
                        + mib(end.metaspace()) + ", loaded classes " + base.classes() + " -> " + end.classes()
                        + signed(end.classes() - base.classes())),
                new Cause("direct buffers", direct, "direct and mapped buffers (JDK and Netty) " + mib(base.direct())
                        + " -> " + mib(end.direct())),
                new Cause("threads", toThreads, "threads " + base.threads() + " -> " + end.threads()
                        + signed(threads) + (threads > 0 ? ", about " + mib(toThreads / threads) + " of native memory each"
                        : "")),
                new Cause("other native memory", rest - toThreads, "RSS growth the JVM does not itemise (malloc, "
                        + "code cache, GC structures, heap pages touched but not live)")));
        causes.sort(Comparator.comparingLong(Cause::bytes).reversed());
        return causes;
    }

    private static String verdict(List<Earlier> earlier, double rate) {
        if (earlier.isEmpty()) {
            return "no earlier report to compare with";
        }
        long same = earlier.stream().filter(e -> rate > 0 && e.bytesPer1000Requests() > 0
                && Math.max(rate, e.bytesPer1000Requests()) / Math.min(rate, e.bytesPer1000Requests()) <= SAME_RATE_FACTOR)
                .count();
        if (same == earlier.size()) {
            return "every earlier report (" + earlier.size() + ") grew at about the same rate: a persistent leak in "
                    + "the app, not warm-up or fragmentation";
        }
        return same + " of " + earlier.size() + " earlier report(s) grew at about the same rate (within x"
                + SAME_RATE_FACTOR + ")";
    }

    /** Least-squares slope of RSS against {@code x}; 0 with fewer than two distinct x. */
    static double slope(List<MemorySeries.Sample> samples, java.util.function.ToLongFunction<MemorySeries.Sample> x) {
        int n = samples.size();
        if (n < 2) {
            return 0;
        }
        double mx = samples.stream().mapToLong(x).average().orElse(0);
        double my = samples.stream().mapToLong(MemorySeries.Sample::rss).average().orElse(0);
        double sxy = 0;
        double sxx = 0;
        for (MemorySeries.Sample s : samples) {
            double dx = x.applyAsLong(s) - mx;
            sxy += dx * (s.rss() - my);
            sxx += dx * dx;
        }
        return sxx == 0 ? 0 : sxy / sxx;
    }

    /** The one log line. */
    public String summary(String textFile) {
        Cause top = causes.get(0);
        StringBuilder line = new StringBuilder("leak report ").append(id).append(" for worker ").append(worker.id())
                .append(" (pid ").append(worker.pid()).append(", gen ").append(worker.generation()).append("): RSS grew ")
                .append(mib((long) per1000Requests)).append(" per 1,000 requests (").append(mib((long) perMinute))
                .append(" per minute)").append(baselineIsWarm ? " after warm-up" : "").append("; most of it ")
                .append(top.name()).append(" (").append(signedMib(top.bytes())).append(")");
        if (top.name().equals("heap")) {
            if (!grownAppClasses.isEmpty()) {
                GrownClass g = grownAppClasses.get(0);
                line.append("; the app's class that grew most: ").append(g.name()).append(" (")
                        .append(plus(g.instances())).append(" instances)");
            }
            if (!grownClasses.isEmpty()) {
                GrownClass g = grownClasses.get(0);
                line.append("; top class ").append(g.name()).append(" (").append(signedMib(g.bytes())).append(", ")
                        .append(plus(g.instances())).append(" instances)");
            }
        }
        return line.append("; in flight when the worker was stopped: ").append(inflightNote)
                .append("; full report: ").append(textFile).toString();
    }

    /** The JSON form (ctl leaks ID --json, the .json file). */
    public Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("id", id);
        json.put("created_at", Instant.ofEpochMilli(createdAtMs).toString());
        Map<String, Object> w = new LinkedHashMap<>();
        w.put("id", worker.id());
        w.put("pid", worker.pid());
        w.put("generation", worker.generation());
        w.put("app", worker.app());
        w.put("age_seconds", worker.ageMs() / 1000.0);
        w.put("requests", worker.requests());
        json.put("worker", w);
        json.put("reason", limit.reason());
        json.put("limit", limit.why());
        json.put("soft_limit_bytes", limit.softLimitBytes());
        Map<String, Object> growth = new LinkedHashMap<>();
        growth.put("bytes_per_1000_requests", Math.round(per1000Requests));
        growth.put("bytes_per_minute", Math.round(perMinute));
        growth.put("after_warmup", baselineIsWarm);
        growth.put("baseline_age_seconds", baseline.ageMs() / 1000.0);
        growth.put("projected_requests_to_soft_limit", projectedRequests);
        json.put("growth", growth);
        List<Object> earlierJson = new ArrayList<>();
        earlier.forEach(e -> earlierJson.add(Map.of("id", e.id(), "generation", e.generation(),
                "bytes_per_1000_requests", Math.round(e.bytesPer1000Requests()))));
        json.put("earlier", earlierJson);
        json.put("earlier_verdict", earlierVerdict);
        List<Object> causesJson = new ArrayList<>();
        causes.forEach(c -> causesJson.add(Map.of("cause", c.name(), "growth_bytes", c.bytes(), "detail", c.detail())));
        json.put("causes", causesJson);
        json.put("histogram_note", histogramNote);
        json.put("inflight_when_stopped", inflightNote);
        List<Object> classes = new ArrayList<>();
        grownClasses.forEach(g -> classes.add(Map.of("class", g.name(), "bytes", g.bytes(), "instances", g.instances())));
        json.put("classes", classes);
        List<Object> appClasses = new ArrayList<>();
        grownAppClasses.forEach(g -> appClasses.add(Map.of("class", g.name(), "bytes", g.bytes(), "instances", g.instances())));
        json.put("app_classes", appClasses);
        List<Object> readings = new ArrayList<>();
        for (MemorySeries.Sample s : series) {
            readings.add(List.of(s.ageMs(), s.requests(), s.rss(), s.heapLive(), s.metaspace(), s.classes(), s.direct(),
                    s.threads()));
        }
        json.put("readings_columns", List.of("age_ms", "requests", "rss", "heap_live", "metaspace", "classes",
                "direct", "threads"));
        json.put("readings", readings);
        return json;
    }

    /** The human-readable form (ctl leaks ID, the .txt file). */
    public String toText() {
        StringBuilder t = new StringBuilder();
        t.append("Leak report ").append(id).append('\n');
        t.append("Worker ").append(worker.id()).append(" (pid ").append(worker.pid()).append(", gen ")
                .append(worker.generation()).append(") of ").append(worker.app()).append(", recycled at ")
                .append(Instant.ofEpochMilli(createdAtMs)).append(" after ").append(seconds(worker.ageMs())).append(" and ")
                .append(worker.requests()).append(" requests\n");
        t.append("Limit: ").append(limit.reason()).append(": ").append(limit.why()).append('\n');
        t.append("In flight when the worker was stopped: ").append(inflightNote).append("\n\n");
        t.append("Growth").append(baselineIsWarm ? " after the warm-up (from age " + seconds(baseline.ageMs()) + ")"
                : " (recycled before its warm-up ended: from the first reading)").append(":\n");
        t.append("  ").append(mib((long) per1000Requests)).append(" per 1,000 requests, ").append(mib((long) perMinute))
                .append(" per minute\n");
        if (projectedRequests >= 0) {
            t.append("  a fresh worker reaches the soft limit after about ").append(projectedRequests).append(" requests\n");
        }
        t.append("  earlier generations: ").append(earlierVerdict).append('\n');
        for (Earlier e : earlier) {
            t.append("    ").append(e.id()).append(" (gen ").append(e.generation()).append("): ")
                    .append(mib((long) e.bytesPer1000Requests())).append(" per 1,000 requests\n");
        }
        t.append("\nWhere the memory went (growth since the baseline, biggest first):\n");
        int rank = 1;
        for (Cause c : causes) {
            t.append(String.format(Locale.ROOT, "  %d. %-22s %12s   %s%n", rank++, c.name(), signedMib(c.bytes()),
                    c.detail()));
        }
        t.append("\nHeap: ").append(histogramNote).append('\n');
        if (!grownClasses.isEmpty()) {
            t.append(String.format(Locale.ROOT, "  %12s %12s  %s%n", "bytes", "instances", "class"));
            for (GrownClass g : grownClasses) {
                t.append(String.format(Locale.ROOT, "  %12s %12s  %s%n", signedMib(g.bytes()), plus(g.instances()),
                        g.name()));
            }
        }
        if (!grownAppClasses.isEmpty()) {
            t.append("The app's own classes that grew most (they hold the arrays above):\n");
            for (GrownClass g : grownAppClasses) {
                t.append(String.format(Locale.ROOT, "  %12s %12s  %s%n", signedMib(g.bytes()), plus(g.instances()),
                        g.name()));
            }
        }
        t.append("\nReadings over its life (age, requests, RSS, live heap, metaspace, classes, direct, threads):\n");
        for (MemorySeries.Sample s : series) {
            t.append(String.format(Locale.ROOT, "  %8s %9d %10s %10s %10s %7d %10s %5d%n", seconds(s.ageMs()),
                    s.requests(), mib(s.rss()), mib(s.heapLive()), mib(s.metaspace()), s.classes(), mib(s.direct()),
                    s.threads()));
        }
        return t.toString();
    }

    /** Bytes in MiB, or in KiB below one MiB (class growth is often small). */
    static String mib(long bytes) {
        return Math.abs(bytes) < (1 << 20) ? String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0)
                : String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    private static String signedMib(long bytes) {
        return (bytes >= 0 ? "+" : "") + mib(bytes);
    }

    private static String plus(long n) {
        return (n >= 0 ? "+" : "") + n;
    }

    private static String signed(long n) {
        return n == 0 ? "" : " (" + (n > 0 ? "+" : "") + n + ")";
    }

    private static String seconds(long ms) {
        return String.format(Locale.ROOT, "%.1fs", ms / 1000.0);
    }
}
