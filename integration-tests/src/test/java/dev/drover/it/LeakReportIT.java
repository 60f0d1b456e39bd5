package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Leak reports for the sample's planted leaks besides the heap's (FaultIT has that one): each is run under load
 * until its worker crosses the soft limit, and its first report must rank the planted cause first, with no
 * request failing meanwhile. Then snapshots and heap dumps on demand, and reports across a master restart.
 */
@Timeout(180)
class LeakReportIT {

    private static Config json(String text) {
        return ConfigFactory.parseString(text, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
    }

    private static Path config(Path dir, int keep) throws Exception {
        Path pidfile = dir.resolve("app.pid");
        return Files.writeString(dir.resolve("leak.conf"), String.join("\n",
                "drover {",
                "  app = dev.drover.sample.SampleApp",
                "  workers = 1",
                "  bind = [\"127.0.0.1:0\"]",
                "  pidfile = \"" + pidfile + "\"",
                "  memory { soft-limit = 140M, soft-grace = 1s }",
                "  leak-reports { keep = " + keep + ", baseline-after = 1s }",
                "}", ""));
    }

    /** The reports go to DIR/reports (by environment: the build sets DROVER_LEAK_REPORTS_DIR for every test). */
    private static DroverProcess start(Path dir, int keep) throws Exception {
        return DroverProcess.start(List.of("-c", config(dir, keep).toString()),
                java.util.Map.of("DROVER_LEAK_REPORTS_DIR", dir.resolve("reports").toString()));
    }

    /** Leaks through {@code path} until the first report; asserts its top cause and that no request failed. */
    private static String leakUntilReport(DroverProcess drover, Path pidfile, String path, long pauseMs,
                                          String expectedCause) throws Exception {
        int port = drover.awaitServing(1, Duration.ofSeconds(60));
        long leaker = Ctl.servingPids(pidfile).get(0);
        drover.awaitLine("worker 1 \\(pid " + leaker + ", gen \\d+\\) \\| INFO  Worker - leak evidence: baseline class "
                + "histogram taken", Duration.ofSeconds(30));
        Matcher report;
        try (Load leak = Load.start(port, path, 0, 1, pauseMs); Load load = Load.start(port, "/", 2, 1)) {
            report = drover.awaitLine("leak report (\\S+) for worker 1 \\(pid " + leaker + ", gen \\d+\\): RSS grew .*; "
                    + "most of it ([a-z ]+) \\(", Duration.ofSeconds(120));
            leak.close();
            load.close();
            assertEquals(0, load.failed.get(), load.summary());
            assertEquals(0, leak.failed.get(), leak.summary());
        }
        assertEquals(expectedCause, report.group(2), report.group());
        String id = report.group(1);
        DroverProcess.Result listed = Ctl.run(pidfile, "leaks");
        assertEquals(0, listed.exitCode(), listed.output());
        assertTrue(listed.output().startsWith(id + "  worker 1 (pid " + leaker), "newest first, ID first:\n" + listed.output());
        DroverProcess.Result full = Ctl.run(pidfile, "leaks", id, "--json");
        assertEquals(0, full.exitCode(), full.output());
        Config r = json(full.output());
        assertEquals(expectedCause, r.getConfigList("causes").get(0).getString("cause"), full.output());
        assertTrue(r.getLong("growth.bytes_per_1000_requests") > 0, full.output());
        assertTrue(r.getList("readings").size() > 0, full.output());
        return id;
    }

    @Test
    void aThreadLeakIsPutDownToThreads() throws Exception {
        Path dir = DroverProcess.tempDir("drover-leak-threads");
        try (DroverProcess drover = start(dir, 10)) {
            String id = leakUntilReport(drover, dir.resolve("app.pid"), "/leak-threads?n=20", 20, "threads");
            String text = Ctl.run(dir.resolve("app.pid"), "leaks", id).output();
            assertTrue(text.matches("(?s).*1\\. threads .*threads \\d+ -> \\d+ \\(\\+\\d+\\).*"), text);
        }
    }

    @Test
    void anOffHeapLeakIsPutDownToDirectBuffers() throws Exception {
        Path dir = DroverProcess.tempDir("drover-leak-direct");
        try (DroverProcess drover = start(dir, 10)) {
            leakUntilReport(drover, dir.resolve("app.pid"), "/leak-direct?kb=1024", 20, "direct buffers");
        }
    }

    @Test
    void aClassLoaderLeakIsPutDownToMetaspaceAndClasses() throws Exception {
        Path dir = DroverProcess.tempDir("drover-leak-classes");
        try (DroverProcess drover = start(dir, 10)) {
            String id = leakUntilReport(drover, dir.resolve("app.pid"), "/leak-classes?n=50", 20, "metaspace and classes");
            String text = Ctl.run(dir.resolve("app.pid"), "leaks", id).output();
            assertTrue(text.matches("(?s).*loaded classes \\d+ -> \\d+ \\(\\+\\d{3,}\\).*"), text);
        }
    }

    @Test
    void snapshotsAndHeapDumpsLeaveTheWorkerServingAndReportsOutliveTheMaster() throws Exception {
        Path dir = DroverProcess.tempDir("drover-leak-snapshot");
        Path pidfile = dir.resolve("app.pid");
        Path reports = dir.resolve("reports");
        Files.createDirectories(reports);
        // Three reports from an earlier master (one unreadable), kept 2: the oldest goes at the next report.
        for (String id : List.of("20200101-000000-w1-p1", "20200101-000001-w1-p2", "20200101-000002-w1-p3")) {
            Files.writeString(reports.resolve(id + ".txt"), "Leak report " + id + "\n");
            Files.writeString(reports.resolve(id + ".json"), id.endsWith("p3") ? "{not json" : "{\"id\": \"" + id + "\"}");
        }
        try (DroverProcess drover = start(dir, 2)) {
            int port = drover.awaitServing(1, Duration.ofSeconds(60));
            long pid = Ctl.servingPids(pidfile).get(0);
            try (Load load = Load.start(port, "/", 2, 1)) {
                load.awaitMore(200, Duration.ofSeconds(30));
                DroverProcess.Result snapshot = Ctl.run(pidfile, "snapshot", "1");
                assertEquals(0, snapshot.exitCode(), snapshot.output());
                assertTrue(snapshot.output().startsWith("worker 1 (pid " + pid + ", gen 1): live heap "), snapshot.output());
                assertTrue(snapshot.output().contains("classes holding the most live heap:"), snapshot.output());
                Config asJson = json(Ctl.run(pidfile, "snapshot", "1", "--json").output());
                assertTrue(asJson.getLong("snapshot.readings.threads") > 5, asJson.toString());

                Path hprof = dir.resolve("w1.hprof");
                DroverProcess.Result dump = Ctl.run(pidfile, "heapdump", "1", hprof.toString());
                assertEquals(0, dump.exitCode(), dump.output());
                assertTrue(Files.size(hprof) > 1_000_000, "a heap dump: " + Files.size(hprof));
                assertTrue(new String(Files.readAllBytes(hprof), 0, 18, java.nio.charset.StandardCharsets.US_ASCII)
                        .startsWith("JAVA PROFILE"), "hprof header");
                assertEquals(2, Ctl.run(pidfile, "heapdump", "1", "relative.hprof").exitCode(), "refused: not absolute");
                assertEquals(2, Ctl.run(pidfile, "snapshot", "9").exitCode(), "refused: no worker 9");
                load.awaitMore(100, Duration.ofSeconds(30));
                load.close();
                assertEquals(0, load.failed.get(), "snapshots and a dump cost no request: " + load.summary());
            }
            assertEquals(List.of(pid), Ctl.servingPids(pidfile), "the same worker serves on");
            DroverProcess.Result listed = Ctl.run(pidfile, "leaks");
            assertEquals(0, listed.exitCode(), listed.output());
            assertTrue(listed.output().contains("20200101-000002-w1-p3  (unreadable"), listed.output());

            leakUntilReport(drover, pidfile, "/leak-direct?kb=1024", 20, "direct buffers");
            assertTrue(!Files.exists(reports.resolve("20200101-000000-w1-p1.json")), "pruned to keep = 2");
            assertTrue(!Files.exists(reports.resolve("20200101-000001-w1-p2.json")), "pruned to keep = 2");
            assertEquals(4, Files.list(reports).count(), "two reports, .txt and .json each");
        }
    }
}
