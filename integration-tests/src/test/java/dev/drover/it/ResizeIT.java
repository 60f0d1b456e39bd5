package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TTIN, TTOU, WINCH and USR1, and the boot failures that stop a master at startup. */
class ResizeIT {

    @TempDir
    Path dir;

    private static long serving(Path pidfile) throws Exception {
        return Ctl.servingPids(pidfile).size();
    }

    @Test
    void ttinTtouAndWinch() throws Exception {
        Path pidfile = dir.resolve("app.pid");
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "2", "-b", "127.0.0.1:0", "-p", pidfile.toString(),
                "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            ReloadIT.signal(drover, "TTIN");
            DroverProcess.awaitCondition("3 workers serving", Duration.ofSeconds(60), () -> count(pidfile) == 3);
            int mark = drover.lineCount();
            ReloadIT.signal(drover, "TTOU");
            drover.awaitLine("worker 3 \\(pid \\d+, gen 1\\) is not needed \\(2 worker\\(s\\) wanted\\): draining", mark,
                    Duration.ofSeconds(10));
            drover.awaitLine("worker 3 \\(pid \\d+, gen 1\\) stopped after draining \\(exited with code 0\\)", mark,
                    Duration.ofSeconds(30));
            assertEquals(2, serving(pidfile));

            ReloadIT.signal(drover, "WINCH");
            DroverProcess.awaitCondition("no worker left", Duration.ofSeconds(30), () -> total(pidfile) == 0);
            // The master keeps its socket: a connection made now waits in the backlog until workers return.
            CompletableFuture<Http.Response> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return Http.get(port, "/");
                } catch (java.io.IOException e) {
                    throw new RuntimeException(e);
                }
            });
            DroverProcess.Result scaled = Ctl.run(pidfile, "scale", "2");
            assertEquals(0, scaled.exitCode(), scaled.output());
            assertTrue(scaled.output().contains("workers: 2 (paused) -> 2"), scaled.output());
            assertEquals(200, waiting.get().status());
            DroverProcess.awaitCondition("2 workers serving again", Duration.ofSeconds(60), () -> count(pidfile) == 2);

            DroverProcess.Result tooFew = Ctl.run(pidfile, "scale", "0");
            assertEquals(2, tooFew.exitCode());
            assertTrue(tooFew.output().contains("expected: at least 1 worker"), tooFew.output());
        }
    }

    private static long count(Path pidfile) {
        try {
            return serving(pidfile);
        } catch (Exception e) {
            return -1;
        }
    }

    private static long total(Path pidfile) {
        try {
            return Ctl.status(pidfile).getConfigList("workers").size();
        } catch (Exception e) {
            return -1;
        }
    }

    @Test
    void usr1ReopensTheLogFileAfterLogrotateMovedIt() throws Exception {
        Path log = dir.resolve("drover.log");
        Path rotated = dir.resolve("drover.log.1");
        Path pidfile = dir.resolve("app.pid");
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "1", "-b", "127.0.0.1:0", "-p", pidfile.toString(),
                "--log-file", log.toString(), "dev.drover.sample.SampleApp"))) {
            DroverProcess.awaitCondition("the worker ready, in the log file", Duration.ofSeconds(60),
                    () -> read(log).contains(" ready in "));
            Files.move(log, rotated);
            ReloadIT.signal(drover, "USR1");
            // The file is created when it is reopened, and the line saying so is written a moment later.
            DroverProcess.awaitCondition("a new log file saying it was reopened", Duration.ofSeconds(10),
                    () -> read(log).contains("SIGUSR1: reopened the log file"));
            DroverProcess.Result reopened = Ctl.run(pidfile, "reopen-logs");
            assertEquals("reopened the log file", reopened.output().trim());
            ReloadIT.signal(drover, "TERM");
            assertEquals(0, drover.awaitExit(Duration.ofSeconds(30)));
            assertTrue(read(log).contains("stopped after draining"), "worker lines land in the new file: " + read(log));
            assertTrue(!read(rotated).contains("SIGUSR1"), "nothing more went to the moved file");
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }

    @Test
    void startupBootFailureStopsTheMasterWithExitCode3WithOneOrFourWorkers() throws Exception {
        Path conf = Files.writeString(dir.resolve("failing.conf"), "sample { fail-on-start = true }\n");
        for (String workers : new String[] {"1", "4"}) {
            DroverProcess.Result result = DroverProcess.run(List.of("-c", conf.toString(), "-w", workers, "-b",
                    "127.0.0.1:0", "dev.drover.sample.SampleApp"), Map.of(), Duration.ofSeconds(90));
            assertEquals(3, result.exitCode(), workers + " worker(s):\n" + result.output());
            assertTrue(result.output().contains("failed to boot, and no worker has booted yet: stopping with exit code 3"));
            assertTrue(result.output().contains("sample.fail-on-start = true: refusing to start"));
            assertTrue(!result.output().contains("Exception in thread \"main\""), "no traceback from the master");
        }
    }

    @Test
    void anAppThatCannotLoadStopsTheMasterWithExitCode4() throws Exception {
        DroverProcess.Result result = DroverProcess.run(List.of("-w", "2", "-b", "127.0.0.1:0",
                "dev.drover.sample.BrokenApp"), Map.of(), Duration.ofSeconds(90));
        assertEquals(4, result.exitCode(), result.output());
        assertTrue(result.output().contains("cannot load app dev.drover.sample.BrokenApp"), result.output());
        assertTrue(result.output().contains("BrokenApp: its static initialiser always fails"), result.output());
    }
}
