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
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A worker that runs out of heap exits (-XX:+ExitOnOutOfMemoryError, which Drover sets) and is recycled for it:
 * named in the log with the kind of OutOfMemoryError, counted as "oom", replaced, and given a leak report.
 */
@Timeout(120)
class OomIT {

    @Test
    void aWorkerOutOfHeapIsRecycledWithAReportThatSaysSo() throws Exception {
        Path dir = DroverProcess.tempDir("drover-oom");
        Path pidfile = dir.resolve("app.pid");
        // A small heap and no memory limits: only the JVM's own guard can end this worker.
        Path conf = Files.writeString(dir.resolve("oom.conf"), String.join("\n",
                "drover {",
                "  app = dev.drover.sample.SampleApp",
                "  workers = 1",
                "  bind = [\"127.0.0.1:0\"]",
                "  pidfile = \"" + pidfile + "\"",
                "  worker-jvm-options = [\"-Xmx48m\", \"-XX:+UseSerialGC\"]",
                "}", ""));
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()),
                Map.of("DROVER_LEAK_REPORTS_DIR", dir.resolve("reports").toString()))) {
            int port = drover.awaitServing(1, Duration.ofSeconds(60));
            long leaker = Ctl.servingPids(pidfile).get(0);
            int mark = drover.lineCount();
            for (int i = 0; i < 10; i++) {
                try {
                    Http.get(port, "/leak?kb=10240"); // 10 MiB kept per request: the 48 MiB heap is full in a few
                } catch (java.io.IOException diedMidRequest) {
                    break;
                }
            }
            drover.awaitLine("worker 1 \\(pid " + leaker + ", gen 1\\) died of java.lang.OutOfMemoryError: Java heap space "
                    + "after [0-9.]+s as serving, \\d+ request\\(s\\) served \\(the JVM exits on OutOfMemoryError: "
                    + "-XX:\\+ExitOnOutOfMemoryError\\); recycled: oom", mark, Duration.ofSeconds(20));
            drover.awaitLine("worker 1 \\(pid (?!" + leaker + ")\\d+, gen 1\\) ready in", mark, Duration.ofSeconds(30));
            assertEquals(200, Http.get(port, "/").status());
            assertTrue(!drover.output().contains("(pid " + leaker + ", gen 1) died unexpectedly"),
                    "no generic crash line: " + drover.output());
            Config status = Ctl.status(pidfile);
            assertEquals(1, status.getLong("recycles.oom"), status.toString());
            assertEquals(0, status.getLong("recycles.crash"), status.toString());

            drover.awaitLine("leak report (\\S+) for worker 1 \\(pid " + leaker + ", gen 1\\)", mark,
                    Duration.ofSeconds(10));
            DroverProcess.Result listed = Ctl.run(pidfile, "leaks", "--json");
            assertEquals(0, listed.exitCode(), listed.output());
            Config row = json(listed.output()).getConfigList("leaks").get(0);
            assertEquals("oom", row.getString("reason"), listed.output());
            DroverProcess.Result full = Ctl.run(pidfile, "leaks", row.getString("id"), "--json");
            assertEquals(0, full.exitCode(), full.output());
            Config report = json(full.output());
            assertEquals("java.lang.OutOfMemoryError: Java heap space", report.getString("limit"), full.output());
            assertTrue(full.output().contains("the worker died of java.lang.OutOfMemoryError: Java heap space"),
                    full.output());
        }
    }

    private static Config json(String text) {
        return ConfigFactory.parseString(text, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
    }
}
