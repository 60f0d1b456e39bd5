package dev.drover.worker.runtime;

import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.management.ObjectName;

/**
 * The worker's side of leak reports and snapshots: class histograms (live objects by class, after a full GC, as
 * {@code jcmd PID GC.class_histogram} prints them, taken in-process with the DiagnosticCommand MBean) and memory
 * readings, written as JSON to a file the master names. A baseline histogram is taken once the worker is warm; at
 * a memory recycle the final one is compared with it, so the report ranks the classes that grew.
 * Every histogram costs a full GC: a pause of milliseconds to tens of milliseconds, paid once at the baseline, once
 * on the worker being drained, and on each snapshot an operator asks for.
 */
final class LeakEvidence {

    /** How many classes a snapshot lists, and how many growers a report lists. */
    static final int TOP = 25;
    /** Classes kept from each histogram for the comparison (the rest hold too little to matter). */
    static final int KEPT = 2000;

    /** One line of a class histogram. */
    record ClassEntry(String name, long instances, long bytes) {
    }

    private final MemoryReadings readings;
    private volatile Map<String, ClassEntry> baseline;
    private volatile long baselineAtMs;
    private volatile MemoryReadings.Reading baselineReading;
    /** How long the baseline histogram took (its full GC included), -1 before it: what the next one may cost. */
    private volatile long baselineTookMs = -1;

    LeakEvidence(MemoryReadings readings) {
        this.readings = readings;
    }

    boolean hasBaseline() {
        return baseline != null;
    }

    long baselineTookMs() {
        return baselineTookMs;
    }

    /** Takes the baseline histogram (a full GC). */
    void takeBaseline() throws Exception {
        long started = System.nanoTime();
        Map<String, ClassEntry> histogram = histogram();
        baselineTookMs = (System.nanoTime() - started) / 1_000_000;
        baselineReading = readings.read();
        baselineAtMs = System.currentTimeMillis();
        baseline = histogram;
    }

    /**
     * Writes {@code file} (atomically): the readings now, the top classes now, and, if there is a baseline, the
     * classes that grew most since it, by bytes.
     */
    void write(Path file, String kind) throws Exception {
        write(file, kind, null);
    }

    /** {@link #write(Path, String)}, naming the requests that were in flight ({@code inflight}; null: not told). */
    void write(Path file, String kind, List<InFlightRequest> inflight) throws Exception {
        Map<String, ClassEntry> now = histogram();
        Map<String, Object> json = header(kind, inflight);
        json.put("top_classes", entries(top(now.values(), TOP)));
        if (baseline != null) {
            json.put("baseline_at_ms", baselineAtMs);
            json.put("baseline_readings", reading(baselineReading));
            json.put("grown_classes", entries(growth(baseline, now, false)));
            // A leak is usually held by the app's own classes, which rank low by bytes behind the arrays they own.
            json.put("grown_app_classes", entries(growth(baseline, now, true)));
        }
        writeAtomically(file, json);
    }

    /**
     * The evidence without a class histogram (no full GC, a millisecond): the readings and the requests in flight,
     * and {@code whyNoHistogram} for the report.
     */
    void writeWithoutHistogram(Path file, String kind, List<InFlightRequest> inflight, String whyNoHistogram)
            throws IOException {
        Map<String, Object> json = header(kind, inflight);
        json.put("no_histogram", whyNoHistogram);
        writeAtomically(file, json);
    }

    private Map<String, Object> header(String kind, List<InFlightRequest> inflight) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("kind", kind);
        json.put("taken_at_ms", System.currentTimeMillis());
        json.put("readings", reading(readings.read()));
        if (inflight != null) {
            json.put("inflight", InFlightRequest.toJson(inflight));
        }
        return json;
    }

    private static void writeAtomically(Path file, Map<String, Object> json) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, toJson(json) + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** A heap dump (.hprof of live objects) at {@code file}: a long pause on a big heap, so only on demand. */
    static void heapDump(Path file) throws IOException {
        com.sun.management.HotSpotDiagnosticMXBean bean =
                ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
        bean.dumpHeap(file.toString(), true);
    }

    /** Classes of the JDK, the libraries Drover brings and Drover itself: not the app's. */
    private static final List<String> PLATFORM = List.of("java.", "javax.", "jdk.", "sun.", "com.sun.", "io.netty.",
            "com.typesafe.config.", "ch.qos.logback.", "org.slf4j.", "dev.drover.worker.", "dev.drover.link.",
            "dev.drover.logging.", "dev.drover.agent.", "[");

    static boolean isApplicationClass(String name) {
        return PLATFORM.stream().noneMatch(name::startsWith);
    }

    /**
     * The classes whose live bytes grew most from {@code before} to {@code after}, with the instance growth; only
     * the app's own classes if {@code appOnly}.
     */
    static List<ClassEntry> growth(Map<String, ClassEntry> before, Map<String, ClassEntry> after, boolean appOnly) {
        List<ClassEntry> grown = new ArrayList<>();
        for (ClassEntry now : after.values()) {
            if (now.name().startsWith(ClassEntry.class.getName()) || (appOnly && !isApplicationClass(now.name()))) {
                continue; // the baseline itself, kept for this comparison; or not the app's
            }
            ClassEntry then = before.get(now.name());
            long bytes = now.bytes() - (then == null ? 0 : then.bytes());
            long instances = now.instances() - (then == null ? 0 : then.instances());
            if (bytes > 0) {
                grown.add(new ClassEntry(now.name(), instances, bytes));
            }
        }
        return top(grown, TOP);
    }

    private static List<ClassEntry> top(java.util.Collection<ClassEntry> entries, int n) {
        return entries.stream().sorted((a, b) -> Long.compare(b.bytes(), a.bytes())).limit(n).toList();
    }

    /** GC.class_histogram, parsed: class name to entry, the biggest {@link #KEPT}. */
    static Map<String, ClassEntry> histogram() throws Exception {
        String text = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                new Object[] {new String[0]}, new String[] {String[].class.getName()});
        return parseHistogram(text);
    }

    /** Lines like {@code    1:        123      45678  java.lang.String (java.base@17)}; others are skipped. */
    static Map<String, ClassEntry> parseHistogram(String text) {
        Map<String, ClassEntry> entries = new HashMap<>();
        for (String line : text.split("\n")) {
            String[] cols = line.trim().split("\\s+");
            if (cols.length < 4 || !cols[0].endsWith(":")) {
                continue;
            }
            try {
                ClassEntry entry = new ClassEntry(cols[3], Long.parseLong(cols[1]), Long.parseLong(cols[2]));
                entries.merge(entry.name(), entry, (a, b) -> new ClassEntry(a.name(), a.instances() + b.instances(),
                        a.bytes() + b.bytes())); // the same name in two class loaders: one line each
            } catch (NumberFormatException e) {
                // the header or the total line
            }
            if (entries.size() >= KEPT) {
                break; // the histogram is sorted by bytes: the rest hold less
            }
        }
        return entries;
    }

    /** JSON text of maps, lists, strings and numbers: Typesafe Config's renderer, as on the master's side. */
    static String toJson(Map<String, Object> json) {
        return ConfigValueFactory.fromAnyRef(json).render(ConfigRenderOptions.concise());
    }

    private static Map<String, Object> reading(MemoryReadings.Reading r) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("heap_live", r.heapLive());
        json.put("heap_used", r.heapUsed());
        json.put("heap_committed", r.heapCommitted());
        json.put("metaspace", r.metaspace());
        json.put("classes", r.classes());
        json.put("direct", r.direct());
        json.put("threads", r.threads());
        return json;
    }

    private static List<Map<String, Object>> entries(List<ClassEntry> entries) {
        return entries.stream().map(e -> Map.<String, Object>of("class", e.name(), "instances", e.instances(),
                "bytes", e.bytes())).toList();
    }
}
