package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A worker killed by SIGKILL is logged with its decoded status and replaced; the other keeps serving. */
class WorkerCrashIT {

    @Test
    void killedWorkerIsReplacedWhileTheOtherKeepsServing() throws Exception {
        Path pidfile = DroverProcess.tempDir("drover-crash").resolve("app.pid");
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "2", "-b", "127.0.0.1:0", "-p",
                pidfile.toString(), "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            List<Long> before = Ctl.servingPids(pidfile);
            long victim = before.get(0);
            long survivor = before.get(1);
            try (Load load = Load.start(port, "/", 0, 4)) {
                load.awaitMore(100, Duration.ofSeconds(30));
                int mark = drover.lineCount();
                ProcessHandle.of(victim).orElseThrow().destroyForcibly();
                drover.awaitLine("\\(pid " + victim + ", gen 1\\) died unexpectedly .*: killed by signal 9 \\(SIGKILL\\).*OOM killer", mark,
                        Duration.ofSeconds(10));
                long servedBySurvivor = load.byWorker.get(survivor).get();
                drover.awaitLine("worker \\d \\(pid (?!" + victim + ")\\d+, gen 1\\) ready in", mark, Duration.ofSeconds(30));
                assertTrue(load.byWorker.get(survivor).get() > servedBySurvivor,
                        "the surviving worker served while its peer was replaced: " + load.summary());
                load.awaitMore(100, Duration.ofSeconds(30));
                load.close();
                // Only requests the victim had accepted can fail: at most one per client thread.
                assertTrue(load.failed.get() <= 4, load.summary());
            }
            List<Long> after = Ctl.servingPids(pidfile);
            assertEquals(2, after.size(), "the count is kept: " + after);
            assertTrue(after.contains(survivor));
            assertNotEquals(before, after);
            assertTrue(!after.contains(victim));
            assertEquals(200, Http.get(port, "/").status());
        }
    }

    @Test
    void workerThatCrashesItselfIsReplaced() throws Exception {
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "1", "-b", "127.0.0.1:0",
                "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(1, Duration.ofSeconds(60));
            int mark = drover.lineCount();
            try {
                Http.get(port, "/crash");
            } catch (java.io.IOException expected) {
                // the worker died mid-request: that request is lost, as with any process crash
            }
            drover.awaitLine("worker 1 \\(pid \\d+, gen 1\\) died unexpectedly .*: exited with code 70", mark, Duration.ofSeconds(10));
            drover.awaitLine("worker 1 \\(pid \\d+, gen 1\\) ready in", mark, Duration.ofSeconds(30));
            assertEquals(200, Http.get(port, "/").status());
        }
    }
}
