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
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The hard memory limit as a ceiling, for one worker whose leak is too fast for anything else (64 MiB a request, no
 * soft limit): it is sent CEILING, stops accepting at once, answers the requests it has in flight and exits; its
 * replacement boots at once. Every request to the other worker succeeds, and a failed request can only be one the
 * leaking worker had in flight; the leak report names the path that was in flight.
 */
@Timeout(90)
class MemoryCeilingSingleIT {

    @Test
    void aWorkerAtTheHardLimitAnswersWhatItHasInFlightAndOnlyItIsReplaced() throws Exception {
        Path dir = DroverProcess.tempDir("drover-ceiling");
        Path pidfile = dir.resolve("app.pid");
        // -Xmx2g: far above the hard limit, so that the heap is no ceiling of its own before the master's reading.
        Path conf = Files.writeString(dir.resolve("ceiling.conf"), String.join("\n",
                "drover {",
                "  app = dev.drover.sample.SampleApp",
                "  workers = 2",
                "  bind = [\"127.0.0.1:0\"]",
                "  pidfile = \"" + pidfile + "\"",
                "  worker-jvm-options = [\"-Xmx2g\"]",
                "  memory { hard-limit = 400M }",
                "}", ""));
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()),
                Map.of("DROVER_LEAK_REPORTS_DIR", dir.resolve("reports").toString()))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            String leaker = drover.awaitLine("worker 1 \\(pid (\\d+), gen 1\\) ready in", 0, Duration.ofSeconds(5))
                    .group(1);
            int mark = drover.lineCount();
            Matcher inflight;
            // Fresh connections land on either worker; only worker 1 leaks, and holds each answer 300 ms so that a
            // /leak is in flight when the ceiling comes.
            try (Load hello = Load.start(port, "/", 2, 1, 2);
                 Load leak = Load.start(port, "/leak?kb=65536&worker=1&hold_ms=300", 0, 2)) {
                drover.awaitLine("worker 1 \\(pid " + leaker + ", gen 1\\) at the memory ceiling \\(memory-hard\\): rss "
                        + "[0-9.]+ MiB is over drover.memory.hard-limit \\(400.0 MiB\\); .*it stops accepting now and "
                        + "has 1s to answer them, then SIGKILL", mark, Duration.ofSeconds(30));
                leak.stopConnecting(); // its replacement is worker 1 too, and would leak the same
                inflight = drover.awaitLine("worker 1 \\(pid " + leaker + ", gen 1\\) \\| WARN  Worker - at the memory "
                        + "ceiling: stopped accepting; (\\d+) request\\(s\\) in flight", mark, Duration.ofSeconds(10));
                drover.awaitLine("worker 1 \\(pid " + leaker + ", gen 1\\) is gone \\(.*; recycled: memory-hard; at the "
                        + "memory ceiling: it exited by itself [0-9.]+m?s after CEILING, every request it had in flight "
                        + "answered\\)", mark, Duration.ofSeconds(10));
                drover.awaitLine("worker 1 \\(pid (?!" + leaker + ")\\d+, gen 1\\) ready in", mark, Duration.ofSeconds(30));
                leak.awaitClientsDone(Duration.ofSeconds(20));
                hello.awaitMore(50, Duration.ofSeconds(20)); // the replacement serves with the other worker
                hello.stopConnecting();
                hello.awaitClientsDone(Duration.ofSeconds(20));
                // Only the leaking worker could lose a request, and only one it had in flight at the ceiling (here it
                // answered them all within its deadline): the plain traffic, on both workers, loses none.
                assertEquals(0, hello.failed.get(), "plain traffic: " + hello.summary());
                assertTrue(leak.failed.get() <= Long.parseLong(inflight.group(1)), "leak traffic: " + leak.summary()
                        + "; in flight at the ceiling: " + inflight.group(1));
                assertEquals(0, leak.failed.get(), "the worker exited by itself, so every request it had was answered: "
                        + leak.summary());
            }
            Matcher report = drover.awaitLine("leak report (\\S+) for worker 1 \\(pid " + leaker + ", gen 1\\): .*; in "
                    + "flight when the worker was stopped: ([^;]*); full report", mark, Duration.ofSeconds(10));
            assertTrue(report.group(2).matches(".*GET /leak \\(\\d+ requests?, .*"), report.group(2));
            DroverProcess.Result full = Ctl.run(pidfile, "leaks", report.group(1), "--json");
            assertEquals(0, full.exitCode(), full.output());
            Config json = ConfigFactory.parseString(full.output(), ConfigParseOptions.defaults()
                    .setSyntax(ConfigSyntax.JSON));
            assertEquals("memory-hard", json.getString("reason"), full.output());
            assertTrue(!json.getString("inflight_when_stopped").contains("kb="), "no query string: " + full.output());
            Config status = Ctl.status(pidfile);
            assertTrue(status.getLong("recycles.memory-hard") >= 1, status.toString());
        }
    }
}
