package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Graceful stop (TERM), its timeout, quick stop (INT), and the death of the master itself. */
class StopIT {

    @Test
    void termLetsEveryInFlightRequestFinishThenExitsZero() throws Exception {
        Path pidfile = DroverProcess.tempDir("drover-term").resolve("app.pid");
        ExecutorService clients = Executors.newFixedThreadPool(10);
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "2", "-b", "127.0.0.1:0", "-p",
                pidfile.toString(), "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            Set<Long> workers = Set.copyOf(Ctl.servingPids(pidfile));
            List<Future<Http.Response>> inFlight = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                inFlight.add(clients.submit(() -> Http.get(port, "/sleep?ms=3000")));
            }
            DroverProcess.awaitCondition("10 requests in flight", Duration.ofSeconds(20), () -> inflight(pidfile) == 10);
            ProcessHandle.of(drover.pid()).orElseThrow().destroy(); // SIGTERM
            for (Future<Http.Response> f : inFlight) {
                Http.Response response = f.get();
                assertEquals(200, response.status(), response.body());
                assertTrue(response.body().startsWith("slept 3000 ms"), response.body());
            }
            assertEquals(0, drover.awaitExit(Duration.ofSeconds(40)), drover.output());
            assertTrue(drover.output().contains("SIGTERM: graceful stop of 2 worker(s)"), drover.output());
            DroverProcess.awaitCondition("no worker left", Duration.ofSeconds(5),
                    () -> workers.stream().noneMatch(DroverProcess::alive));
            assertFalse(Files.exists(pidfile));
        } finally {
            clients.shutdownNow();
        }
    }

    private static long inflight(Path pidfile) {
        try {
            return Ctl.status(pidfile).getConfigList("workers").stream().mapToLong(w -> w.getLong("inflight")).sum();
        } catch (Exception e) {
            return -1;
        }
    }

    @Test
    void workersThatOverrunTheGracefulTimeoutAreKilled() throws Exception {
        Path pidfile = DroverProcess.tempDir("drover-overrun").resolve("app.pid");
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "1", "-b", "127.0.0.1:0", "-p",
                pidfile.toString(), "--graceful-timeout", "1s", "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(1, Duration.ofSeconds(60));
            Thread client = new Thread(() -> {
                try {
                    Http.get(port, "/sleep?ms=60000");
                } catch (java.io.IOException expected) {
                    // cut off by the SIGKILL
                }
            });
            client.setDaemon(true);
            client.start();
            DroverProcess.awaitCondition("the request in flight", Duration.ofSeconds(20), () -> inflight(pidfile) == 1);
            long began = System.nanoTime();
            ProcessHandle.of(drover.pid()).orElseThrow().destroy();
            drover.awaitLine("did not finish draining within 1s \\(drover.graceful-timeout\\); sending SIGKILL",
                    Duration.ofSeconds(10));
            assertEquals(0, drover.awaitExit(Duration.ofSeconds(10)));
            assertTrue(Duration.ofNanos(System.nanoTime() - began).toSeconds() < 10);
        }
    }

    @Test
    void intStopsQuickly() throws Exception {
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "2", "-b", "127.0.0.1:0",
                "dev.drover.sample.SampleApp"))) {
            drover.awaitServing(2, Duration.ofSeconds(60));
            Set<Long> workers = drover.workerPids();
            new ProcessBuilder("kill", "-INT", Long.toString(drover.pid())).start().waitFor();
            assertEquals(0, drover.awaitExit(Duration.ofSeconds(10)), drover.output());
            assertTrue(drover.output().contains("SIGINT: quick stop of 2 worker(s)"), drover.output());
            DroverProcess.awaitCondition("no worker left", Duration.ofSeconds(5),
                    () -> workers.stream().noneMatch(DroverProcess::alive));
        }
    }

    @Test
    void noWorkerOutlivesAMasterKilledBySigkill() throws Exception {
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "3", "-b", "127.0.0.1:0",
                "dev.drover.sample.SampleApp"))) {
            drover.awaitServing(3, Duration.ofSeconds(90));
            Set<Long> workers = drover.workerPids();
            assertEquals(3, workers.size(), drover.output());
            ProcessHandle.of(drover.pid()).orElseThrow().destroyForcibly();
            DroverProcess.awaitCondition("every worker gone within 2 s of the master's SIGKILL", Duration.ofSeconds(2),
                    () -> workers.stream().noneMatch(DroverProcess::alive));
        }
    }
}
