package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sample app's planted faults: a leak recycled by memory, a hang killed after a thread dump, a slow boot. */
class FaultIT {

    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void leakingWorkerIsRecycledForMemoryWithEvidenceAndNothingLost() throws Exception {
        Path pidfile = dir.resolve("app.pid");
        Path conf = Files.writeString(dir.resolve("leak.conf"), String.join("\n",
                "drover {",
                "  app = dev.drover.sample.SampleApp",
                "  workers = 1",
                "  bind = [\"127.0.0.1:0\"]",
                "  pidfile = \"" + pidfile + "\"",
                "  memory { soft-limit = 200M, soft-grace = 1s, hard-limit = 330M }",
                "}", ""));
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()))) {
            int port = drover.awaitServing(1, Duration.ofSeconds(60));
            long leaker = Ctl.servingPids(pidfile).get(0);
            AtomicBoolean leaking = new AtomicBoolean(true);
            AtomicLong leakFailures = new AtomicLong();
            Thread leak = new Thread(() -> {
                while (leaking.get()) { // about 10 MiB/s: the soft limit is crossed in seconds, the hard one never
                    try {
                        if (Http.get(port, "/leak?kb=512").status() != 200) {
                            leakFailures.incrementAndGet();
                        }
                        Thread.sleep(50);
                    } catch (Exception e) {
                        leakFailures.incrementAndGet();
                    }
                }
            });
            leak.start();
            try (Load load = Load.start(port, "/", 2, 2)) {
                drover.awaitLine("worker 1 \\(pid " + leaker + ", gen 1\\) is due for recycling \\(memory\\): rss "
                        + "[0-9.]+ MiB has been over drover.memory.soft-limit \\(200.0 MiB\\)", Duration.ofSeconds(90));
                drover.awaitLine("worker 1 \\(pid " + leaker + ", gen 1\\) recycled \\(memory\\)", Duration.ofSeconds(60));
                drover.awaitLine("memory evidence: the 20 classes holding the most live heap", Duration.ofSeconds(30));
                drover.awaitLine("dev.drover.sample.LeakyCache\\$LeakedBlock", Duration.ofSeconds(10));
                drover.awaitLine("worker 1 \\(pid " + leaker + ", gen 1\\) stopped after draining", Duration.ofSeconds(40));
                leaking.set(false);
                leak.join();
                load.close();
                assertEquals(0, load.failed.get(), load.summary());
                assertEquals(0, leakFailures.get());
            } finally {
                leaking.set(false);
            }
            assertTrue(!drover.output().contains("memory-hard"), "the hard limit was never reached:\n" + drover.output());
            assertEquals(1, Ctl.status(pidfile).getLong("recycles.memory"));
        }
    }

    @Test
    void hungWorkerIsDumpedKilledAndReplacedWhileTheOthersServe() throws Exception {
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "2", "-b", "127.0.0.1:0", "-t", "3s",
                "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            try (Load load = Load.start(port, "/", 0, 4)) {
                load.awaitMore(200, Duration.ofSeconds(30));
                int mark = drover.lineCount();
                Http hang = Http.connect(port);
                long sent = System.nanoTime();
                Thread stuck = new Thread(() -> {
                    try {
                        hang.send("/hang", true);
                    } catch (java.io.IOException expected) {
                        // the hung worker is killed under this request
                    }
                });
                stuck.setDaemon(true);
                stuck.start();
                var hung = drover.awaitLine("worker \\d \\(pid (\\d+), gen 1\\) is hung: an event loop has not checked in "
                        + "for [0-9.]+s \\(drover.timeout = 3s\\)", mark, Duration.ofSeconds(20));
                long okAtDetection = load.ok.get();
                String pid = hung.group(1);
                drover.awaitLine("\\(pid " + pid + ", gen 1\\) \\| Full thread dump", mark, Duration.ofSeconds(5));
                drover.awaitLine("\\(pid " + pid + ", gen 1\\) \\|\\s+at dev.drover.sample.SampleHandler.channelRead0",
                        mark, Duration.ofSeconds(5));
                drover.awaitLine("\\(pid " + pid + ", gen 1\\) is gone \\(killed by signal 9 \\(SIGKILL\\).*recycled: hang\\)",
                        mark, Duration.ofSeconds(10));
                long tookMs = Duration.ofNanos(System.nanoTime() - sent).toMillis();
                assertTrue(tookMs < 3000 + 1000 + 1000 + 3000,
                        "killed within timeout + a tick + the dump's second (+ slack): " + tookMs + " ms");
                drover.awaitLine("worker \\d \\(pid (?!" + pid + ")\\d+, gen 1\\) ready in", mark, Duration.ofSeconds(30));
                load.awaitMore(200, Duration.ofSeconds(30));
                load.close();
                assertTrue(okAtDetection > 200, "the other worker served while one was hung: " + load.summary());
                // Only connections handed to the stuck event loop fail: at most one per client thread.
                assertTrue(load.failed.get() <= 4, load.summary());
                hang.close();
            }
        }
    }

    @Test
    void aWorkerThatDoesNotBootInTimeIsKilledAndTheMasterStops() throws Exception {
        Path conf = Files.writeString(dir.resolve("slow.conf"), String.join("\n",
                "drover { app = dev.drover.sample.SampleApp, bind = [\"127.0.0.1:0\"], boot-timeout = 2s }",
                "sample { start-delay = 60s }", ""));
        DroverProcess.Result result = DroverProcess.run(List.of("-c", conf.toString()), Map.of(), Duration.ofSeconds(60));
        assertEquals(3, result.exitCode(), result.output());
        assertTrue(result.output().matches("(?s).*worker 1 \\(pid \\d+, gen 1\\) not ready [0-9.]+s after its spawn "
                + "\\(drover.boot-timeout = 2s\\).*"), result.output());
        assertTrue(result.output().contains("at dev.drover.sample.SampleApp.start"),
                "the thread dump shows where it was stuck:\n" + result.output());
    }
}
