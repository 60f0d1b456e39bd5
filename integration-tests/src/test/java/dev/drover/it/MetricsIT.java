package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * metrics.bind as a Prometheus server and a probe would see it: a scrape under load after recycles of several
 * reasons passes `promtool check metrics`, per-slot series continue across recycles, the reason counters follow
 * what happened, and /healthz, /readyz and `drover ctl health` answer ready, then not ready while stopping.
 */
class MetricsIT {

    private static final Pattern METRICS = Pattern.compile("metrics on http://([0-9.]+):(\\d+)");

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void scrapesUnderLoadAfterRecyclesAndHealthThroughAStop() throws Exception {
        Path pidfile = DroverProcess.tempDir("drover-metrics").resolve("app.pid");
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "2", "-b", "127.0.0.1:0", "-p",
                pidfile.toString(), "--metrics-bind", "127.0.0.1:0", "--max-requests", "600",
                "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            int metrics = Integer.parseInt(drover.awaitLine(METRICS.pattern(), 0, Duration.ofSeconds(5)).group(2));
            assertEquals(200, Http.get(metrics, "/readyz").status());
            // Paced (10 ms between requests per client): a worker lives ~600 requests, several seconds, so a slot
            // is serving and not yet marked for long enough for `ctl recycle` (a JVM of its own) to find it.
            try (Load load = Load.start(port, "/", 2, 1, 10)) {
                DroverProcess.awaitCondition("2 recycles for max-requests", Duration.ofSeconds(60),
                        () -> drover.countLines("recycled \\(max-requests\\)") >= 2);
                String before = scrape(metrics);
                // A worker already marked for max-requests is refused ("no serving worker"): ask until one is free.
                DroverProcess.awaitCondition("ctl recycle accepted", Duration.ofSeconds(30),
                        () -> recycle(pidfile, "1") || recycle(pidfile, "2"));
                DroverProcess.awaitCondition("the manual recycle", Duration.ofSeconds(60),
                        () -> drover.countLines("recycled \\(manual\\)") >= 1);
                ReloadIT.signal(drover, "HUP");
                drover.awaitLine("reload to generation 2 complete", Duration.ofSeconds(60));
                load.awaitMore(200, Duration.ofSeconds(30));
                long sent = load.total();
                String after = scrape(metrics);
                promtoolAccepts(after);

                assertTrue(value(after, "drover_recycles_total{reason=\"max-requests\"}") >= 2, after);
                assertTrue(value(after, "drover_recycles_total{reason=\"manual\"}") >= 1, after);
                // (>= 1, not 2: an old worker already marked for max-requests keeps that reason)
                assertTrue(value(after, "drover_recycles_total{reason=\"reload\"}") >= 1, after);
                assertEquals(1, value(after, "drover_reloads_total{outcome=\"complete\"}"), after);
                assertEquals(2, value(after, "drover_generation"), after);
                assertEquals(Set.of("1", "2"), slots(after, "drover_worker_resident_memory_bytes"),
                        "one series per slot, however many pids served it:\n" + after);
                assertEquals(Set.of("1", "2"), slots(after, "drover_http_request_duration_seconds_count"), after);
                assertFalse(after.contains("pid=\""), "no pid labels:\n" + after);
                for (String slot : List.of("1", "2")) {
                    String count = "drover_http_request_duration_seconds_count{slot=\"" + slot + "\"}";
                    assertTrue(value(after, count) >= value(before, count), "slot " + slot
                            + "'s count continues across its recycles: " + value(before, count) + " then "
                            + value(after, count));
                }
                assertTrue(value(after, "drover_http_request_duration_seconds_count{slot=\"1\"}")
                        + value(after, "drover_http_request_duration_seconds_count{slot=\"2\"}")
                        >= sent * 0.8, "the slots' counts add up to about what the load sent (" + sent
                        + "; a worker's last moments may be missing):\n" + after);
                assertTrue(after.contains("drover_listen_queue_connections{address=\"127.0.0.1:" + port + "\"}"),
                        after);
                assertTrue(after.contains("jvm_memory_used_bytes"), "the master's own JVM metrics:\n" + after);
                load.close();
                assertEquals(0, load.failed.get(), load.summary());
            }
            assertEquals(200, Http.get(metrics, "/healthz").status());
            assertEquals(0, Ctl.run(pidfile, "health").exitCode());
            healthWhileStopping(drover, pidfile, port, metrics);
        }
    }

    /** A request in flight holds the graceful stop open: meanwhile the master is alive and not ready. */
    private static void healthWhileStopping(DroverProcess drover, Path pidfile, int port, int metrics) throws Exception {
        CompletableFuture<Http.Response> slow = CompletableFuture.supplyAsync(() -> {
            try {
                return Http.get(port, "/sleep?ms=6000");
            } catch (java.io.IOException e) {
                throw new RuntimeException(e);
            }
        });
        DroverProcess.awaitCondition("the slow request in flight (ctl status)", Duration.ofSeconds(10),
                () -> inflight(pidfile) >= 1);
        ReloadIT.signal(drover, "TERM");
        DroverProcess.awaitCondition("/readyz 503 while stopping", Duration.ofSeconds(10),
                () -> statusQuietly(metrics, "/readyz") == 503);
        assertTrue(Http.get(metrics, "/readyz").body().contains("the master is stopping"));
        assertEquals(200, Http.get(metrics, "/healthz").status(), "still alive while it drains");
        DroverProcess.Result health = Ctl.run(pidfile, "health");
        assertEquals(1, health.exitCode(), "alive, not ready: " + health.output());
        assertEquals(200, slow.get(30, TimeUnit.SECONDS).status(), "the in-flight request completes");
        assertEquals(0, drover.awaitExit(Duration.ofSeconds(30)));
        assertEquals(3, Ctl.run(pidfile, "health").exitCode(), "no master: not alive");
    }

    private static boolean recycle(Path pidfile, String id) {
        try {
            return Ctl.run(pidfile, "recycle", id).exitCode() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    private static long inflight(Path pidfile) {
        try {
            return Ctl.status(pidfile).getConfigList("workers").stream().mapToLong(w -> w.getLong("inflight")).sum();
        } catch (Exception e) {
            return -1;
        }
    }

    /** A foreign worker's responses count by status class too: the agent reads the status where a request ends. */
    @ParameterizedTest
    @EnumSource(value = Examples.class, names = {"JETTY", "TOMCAT"})
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void countsAForeignWorkersResponsesByStatusClass(Examples example) throws Exception {
        Path app = ForeignApps.privateCopy(example, DroverProcess.tempDir("drover-metrics-foreign"));
        try (DroverProcess drover = ForeignApps.start(app, "-w", "1", "-b", "127.0.0.1:0", "--metrics-bind",
                "127.0.0.1:0")) {
            int port = drover.awaitServing(1, ForeignApps.BOOT);
            int metrics = Integer.parseInt(drover.awaitLine(METRICS.pattern(), 0, Duration.ofSeconds(5)).group(2));
            for (int i = 0; i < 3; i++) {
                assertEquals(200, Http.get(port, "/hello").status());
            }
            for (int i = 0; i < 2; i++) {
                assertEquals(404, Http.get(port, "/no-such-page").status());
            }
            // The worker's next STATS message carries the counts; warm-up requests are not counted.
            DroverProcess.awaitCondition("3 responses 2xx and 2 4xx in /metrics", Duration.ofSeconds(20),
                    () -> responsesQuietly(metrics, "2xx") == 3 && responsesQuietly(metrics, "4xx") == 2);
            String last = scrape(metrics);
            assertEquals(0, responses(last, "5xx"), last);
        }
    }

    /** drover_http_responses_total of a status class, summed over the slots. */
    private static double responses(String scrape, String statusClass) {
        Matcher m = Pattern.compile("(?m)^drover_http_responses_total\\{[^}]*status_class=\"" + statusClass
                + "\"[^}]*\\} (\\S+)$").matcher(scrape);
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
        }
        return sum;
    }

    private static double responsesQuietly(int metrics, String statusClass) {
        try {
            return responses(scrape(metrics), statusClass);
        } catch (Exception e) {
            return -1;
        }
    }

    private static String scrape(int metrics) throws Exception {
        Http.Response r = Http.get(metrics, "/metrics");
        assertEquals(200, r.status(), r.body());
        return r.body();
    }

    static int statusQuietly(int metrics, String path) {
        try {
            return Http.get(metrics, path).status();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    private static double value(String scrape, String series) {
        for (String line : scrape.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        throw new AssertionError("no series " + series + " in:\n" + scrape);
    }

    private static Set<String> slots(String scrape, String metric) {
        Set<String> slots = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(metric) + "\\{slot=\"(\\d+)\"").matcher(scrape);
        while (m.find()) {
            slots.add(m.group(1));
        }
        return slots;
    }

    /** Prometheus's own linter (Debian's prometheus package; .ci/run installs it). */
    private static void promtoolAccepts(String scrape) throws Exception {
        Process promtool = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        promtool.getOutputStream().write(scrape.getBytes(StandardCharsets.UTF_8));
        promtool.getOutputStream().close();
        String out = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(promtool.waitFor(30, TimeUnit.SECONDS), "promtool did not finish");
        assertEquals(0, promtool.exitValue(), "promtool check metrics: " + out + "\n" + scrape);
    }
}
