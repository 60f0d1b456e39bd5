package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The Spring Boot example (embedded Tomcat), unmodified, as Drover's workers, run as a user would with the jar as
 * APP: recycles by max-requests, reloads (one with a new release of the jar), TERM, a leak recycled by the soft
 * limit, and readiness after the app's own start-up tasks (also with Jetty). Every request of the load is counted;
 * none may fail.
 */
class ForeignSpringBootIT {

    private static final Examples APP = Examples.SPRING_BOOT;

    @TempDir
    Path dir;

    private Path pidfile() {
        return dir.resolve("app.pid");
    }

    /**
     * Two workers, max-requests 200, keep-alive and fresh-connection clients until four recycles: nothing lost, never
     * more than workers + max-surge JVMs, and ctl status counts exactly the requests each worker answered. Then TERM
     * under keep-alive load with two slow requests in flight: every request is answered, exit 0, no JVM left.
     */
    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void recyclesByMaxRequestsUnderLoadLoseNothingThenTermDrains() throws Exception {
        try (DroverProcess drover = ForeignApps.start(APP.jar(), "-w", "2", "-b", "127.0.0.1:0", "-p",
                pidfile().toString(), "--max-requests", "200")) {
            int port = drover.awaitServing(2, ForeignApps.BOOT);
            try (Load load = Load.start(port, "/hello", 2, 2, 10)) {
                DroverProcess.awaitCondition("4 recycles (max-requests)", Duration.ofMinutes(4),
                        () -> drover.countLines("recycled \\(max-requests\\)") >= 4);
                // The 4th replacement serves from its READY on; its first answer may come a moment after that line.
                DroverProcess.awaitCondition("6 workers answered", Duration.ofSeconds(30),
                        () -> load.byWorker.size() >= 6);
                load.close();
                assertEquals(0, load.failed.get(), load.summary() + "\n" + drover.output());
                assertTrue(load.byWorker.size() >= 6 && !load.byWorker.containsKey(-1L),
                        "the first 2 workers and 4 replacements answered, each naming its pid: " + load.summary());
                assertStatusCountsWhatEachWorkerAnswered(load);
            }
            assertTrue(RecycleIT.mostWorkersAtOnce(drover.output()) <= 3,
                    "never more than workers + max-surge (2 + 1) JVMs at once:\n" + drover.output());
            assertTrue(drover.output().matches("(?s).*worker \\d \\(pid \\d+, gen 1\\) is due for recycling "
                    + "\\(max-requests\\): served \\d+ requests \\(its limit: 200\\).*"), drover.output());
            assertTrue(Ctl.status(pidfile()).getLong("recycles.max-requests") >= 4);
            termUnderKeepAliveLoadDrains(drover, port);
        }
    }

    /** STATS arrive every second: the serving workers' counts in ctl status reach what the clients received. */
    private void assertStatusCountsWhatEachWorkerAnswered(Load load) throws Exception {
        List<String> last = new ArrayList<>();
        DroverProcess.awaitCondition("ctl status counts each serving worker's answers " + last, Duration.ofSeconds(10),
                () -> {
                    last.clear();
                    try {
                        for (Config w : Ctl.status(pidfile()).getConfigList("workers")) {
                            if (w.getString("state").equals("serving")) {
                                var counter = load.byWorker.get(w.getLong("pid"));
                                long answered = counter == null ? 0 : counter.get(); // a replacement just ready
                                last.add(w.getLong("pid") + ": " + w.getLong("requests") + " counted, "
                                        + answered + " answered");
                                if (answered != w.getLong("requests")) {
                                    return false;
                                }
                            }
                        }
                        return last.size() == 2;
                    } catch (Exception e) {
                        return false;
                    }
                });
    }

    private void termUnderKeepAliveLoadDrains(DroverProcess drover, int port) throws Exception {
        Set<Long> workers = drover.workerPids();
        try (Load load = Load.start(port, "/hello", 3, 0, 10)) {
            load.awaitMore(100, Duration.ofSeconds(30));
            List<CompletableFuture<Http.Response>> slow = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                slow.add(CompletableFuture.supplyAsync(() -> get(port, "/sleep?ms=2000")));
            }
            DroverProcess.awaitCondition("the 2 slow requests in flight", Duration.ofSeconds(10),
                    () -> inflight() >= 2);
            // What a stop owes its clients: an answer to every request sent. New connections after the stop are not
            // for it to serve.
            load.stopConnecting();
            ProcessHandle.of(drover.pid()).orElseThrow().destroy(); // SIGTERM
            for (CompletableFuture<Http.Response> f : slow) {
                Http.Response response = f.get(60, TimeUnit.SECONDS);
                assertEquals(200, response.status(), response.body());
                assertEquals("slept 2000 ms\n", response.body());
            }
            load.awaitClientsDone(Duration.ofSeconds(60));
            assertEquals(0, load.failed.get(), load.summary() + "\n" + drover.output());
        }
        assertEquals(0, drover.awaitExit(Duration.ofSeconds(60)), drover.output());
        // 2, or 3 when a replacement was booting at that moment (max-requests), or 4 when an old worker it replaced
        // was still draining besides
        assertTrue(drover.output().matches("(?s).*SIGTERM: graceful stop of [234] worker\\(s\\).*"), drover.output());
        DroverProcess.awaitCondition("no worker JVM left", Duration.ofSeconds(10),
                () -> workers.stream().noneMatch(DroverProcess::alive));
        assertFalse(Files.exists(pidfile()), "the pidfile is removed");
    }

    private long inflight() {
        try {
            return Ctl.status(pidfile()).getConfigList("workers").stream().mapToLong(w -> w.getLong("inflight")).sum();
        } catch (Exception e) {
            return -1;
        }
    }

    private static Http.Response get(int port, String path) {
        try {
            return Http.get(port, path);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Three HUPs under load; before the second, the jar is replaced by its next release (written beside it, renamed
     * over it). Every worker of the later generations answers with the new version; no request fails.
     */
    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void threeReloadsUnderLoadTheSecondWithANewReleaseOfTheJarLoseNothing() throws Exception {
        Path app = ForeignApps.privateCopy(APP, dir);
        try (DroverProcess drover = ForeignApps.start(app, "-w", "2", "-b", "127.0.0.1:0", "-p",
                pidfile().toString())) {
            int port = drover.awaitServing(2, ForeignApps.BOOT);
            assertServingWorkersAnswer(port, "1");
            try (Load load = Load.start(port, "/hello", 2, 2, 10)) {
                ForeignApps.reload(drover, 2, 2);
                assertServingWorkersAnswer(port, "1");
                ForeignApps.release(APP, app, "2");
                ForeignApps.reload(drover, 3, 2);
                assertServingWorkersAnswer(port, "2");
                assertEquals("2\n", Http.get(port, "/version").body());
                ForeignApps.reload(drover, 4, 2);
                assertServingWorkersAnswer(port, "2");
                load.awaitMore(100, Duration.ofSeconds(30));
                load.close();
                assertEquals(0, load.failed.get(), load.summary() + "\n" + drover.output());
                assertTrue(load.byWorker.size() >= 8, "the workers of all 4 generations answered: " + load.summary());
                assertTrue(load.firstBodyByWorker.values().stream().filter(b -> b.startsWith(APP.greeting("2")))
                        .count() >= 4, "the 4 workers of generations 3 and 4 run the new release: " + load.summary());
            }
            assertEquals(4, Ctl.status(pidfile()).getInt("generation"));
        }
    }

    private void assertServingWorkersAnswer(int port, String version) throws Exception {
        ForeignApps.assertServingWorkersAnswer(port, pidfile(), APP, version, 2);
    }

    /**
     * One connection leaks 1 MiB per request into a static list of the app's LeakedOrder objects until the worker
     * is due for recycling over the soft limit; it is recycled gracefully, and its leak report says heap and names
     * the app's class. The load beside it loses nothing.
     */
    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aLeakIsRecycledByTheSoftLimitWithAReportNamingTheAppsClass() throws Exception {
        Path conf = Files.writeString(dir.resolve("leak.conf"),
                "drover { memory { soft-grace = 1s }, leak-reports { baseline-after = 1s } }\n");
        try (DroverProcess drover = ForeignApps.start(APP.jar(), "-c", conf.toString(), "-w", "1", "-b",
                "127.0.0.1:0", "-p", pidfile().toString(), "--memory-soft-limit", "300M")) {
            int port = drover.awaitServing(1, ForeignApps.BOOT);
            long leaker = Ctl.servingPids(pidfile()).get(0);
            drover.awaitLine("\\(pid " + leaker + ", gen 1\\) \\|.*leak evidence: baseline class histogram taken",
                    Duration.ofSeconds(60));
            Matcher report;
            try (Load load = Load.start(port, "/hello", 1, 1, 20)) {
                leakUntilDue(drover, port, leaker);
                drover.awaitLine("worker 1 \\(pid " + leaker + ", gen 1\\) recycled \\(memory\\)", ForeignApps.BOOT);
                drover.awaitLine("worker 1 \\(pid " + leaker + ", gen 1\\) stopped after draining", Duration.ofSeconds(60));
                report = drover.awaitLine("leak report (\\S+) for worker 1 \\(pid " + leaker + ", gen 1\\): RSS grew .*; "
                        + "most of it heap \\(.*\\); the app's class that grew most: ([\\w.$]+)", Duration.ofSeconds(30));
                load.awaitMore(50, Duration.ofSeconds(30));
                load.close();
                assertEquals(0, load.failed.get(), load.summary() + "\n" + drover.output());
            }
            assertEquals("dev.drover.examples.boot.LeakedOrder", report.group(2), report.group());
            DroverProcess.Result full = Ctl.run(pidfile(), "leaks", report.group(1), "--json");
            assertEquals(0, full.exitCode(), full.output());
            Config json = ConfigFactory.parseString(full.output(),
                    ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
            assertEquals("heap", json.getConfigList("causes").get(0).getString("cause"), full.output());
            assertEquals("dev.drover.examples.boot.LeakedOrder",
                    json.getConfigList("app_classes").get(0).getString("class"), full.output());
            assertEquals(1, Ctl.status(pidfile()).getLong("recycles.memory"));
        }
    }

    /**
     * GET /leak?kb=1024 on one keep-alive connection (a new one only if the server closes it) until the master says
     * the worker is due for recycling: then the leak stops, so that the heap (256 MB by default) never runs out
     * while the replacement boots. 230 MiB at most: well over what the 300M limit needs.
     */
    private static void leakUntilDue(DroverProcess drover, int port, long leaker) throws Exception {
        String due = "worker 1 \\(pid " + leaker + ", gen 1\\) is due for recycling \\(memory\\): rss [0-9.]+ MiB has been "
                + "over drover.memory.soft-limit \\(300.0 MiB\\)";
        Http http = Http.connect(port);
        try {
            for (int mib = 0; drover.countLines(due) == 0; mib++) {
                assertTrue(mib < 230, "not due for recycling after " + mib + " MiB leaked:\n" + drover.output());
                Http.Response response = http.send("/leak?kb=1024", true);
                assertEquals(200, response.status(), response.body());
                if (response.closes()) {
                    http.close();
                    http = Http.connect(port);
                }
                Thread.sleep(30); // pacing the leak to ~30 MiB/s, not waiting for anything
            }
        } finally {
            http.close();
        }
    }

    /**
     * Requests that reach the socket while the only worker boots are answered only once the app has finished
     * starting: after its 3 s cache warm-up (an ApplicationRunner), which runs after the web server has started.
     * With Tomcat and with Jetty.
     */
    @ParameterizedTest
    @EnumSource(value = Examples.class, names = {"SPRING_BOOT", "SPRING_BOOT_JETTY"})
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void noRequestIsAnsweredBeforeTheAppHasFinishedStarting(Examples example) throws Exception {
        try (DroverProcess drover = ForeignApps.start(example.jar(), "-w", "1", "-b", "127.0.0.1:0",
                "--app-arg=--example.warmup-ms=3000")) {
            Matcher listening = drover.awaitLine("listening on http://([0-9.]+):(\\d+)", ForeignApps.BOOT);
            int port = Integer.parseInt(listening.group(2));
            Instant sentAt = Instant.now();
            List<CompletableFuture<Instant>> answers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                answers.add(CompletableFuture.supplyAsync(() -> {
                    Http.Response response = get(port, "/hello");
                    assertEquals(200, response.status(), response.body());
                    return Instant.now();
                }));
            }
            Instant firstAnswer = Instant.MAX;
            for (CompletableFuture<Instant> answer : answers) {
                Instant at = answer.get(120, TimeUnit.SECONDS);
                firstAnswer = at.isBefore(firstAnswer) ? at : firstAnswer;
            }
            String server = example == Examples.SPRING_BOOT ? "Tomcat" : "Jetty";
            Instant serverStarted = appLogTime(drover, server + " started on port");
            Instant warmedUp = appLogTime(drover, "cache warmed up in 3000 ms");
            assertTrue(sentAt.isBefore(serverStarted), "the requests waited on the socket before " + server
                    + " started: " + sentAt + " vs " + serverStarted);
            assertTrue(firstAnswer.isAfter(warmedUp), "the first answer (" + firstAnswer + ") came after the app's "
                    + "start-up task ended (" + warmedUp + ")\n" + drover.output());
        }
    }

    /** The time Spring Boot's own log line containing {@code text} gives (its first field, ISO-8601). */
    private static Instant appLogTime(DroverProcess drover, String text) throws InterruptedException {
        Matcher m = drover.awaitLine("\\(pid \\d+, gen 1\\) \\| (\\S+)\\s+INFO .*" + java.util.regex.Pattern.quote(text),
                Duration.ofSeconds(10));
        return OffsetDateTime.parse(m.group(1)).toInstant();
    }
}
