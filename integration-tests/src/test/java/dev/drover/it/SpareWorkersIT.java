package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * drover.spare-workers: a spare boots beside the workers and never accepts until it is promoted into a slot (a
 * crashed worker's, a recycled one's), for native and foreign apps alike; a reload replaces the spares too.
 */
class SpareWorkersIT {

    @TempDir
    Path dir;

    /** The pids `ctl status` shows in {@code state}. */
    private static List<Long> pids(Path pidfile, String state) throws Exception {
        return Ctl.status(pidfile).getConfigList("workers").stream().filter(w -> w.getString("state").equals(state))
                .map(w -> w.getLong("pid")).toList();
    }

    private static long onlySpare(Path pidfile) throws Exception {
        List<Long> spares = pids(pidfile, "spare");
        assertEquals(1, spares.size(), "one spare in ctl status: " + spares);
        return spares.get(0);
    }

    /** Waits until `ctl status` shows a spare that is none of {@code excluded} (a new one, READY). */
    private static void awaitNewSpare(Path pidfile, Set<Long> excluded, Duration timeout) throws Exception {
        DroverProcess.awaitCondition("a new spare in ctl status", timeout, () -> {
            try {
                return pids(pidfile, "spare").stream().anyMatch(p -> !excluded.contains(p));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void theSpareNeverAcceptsUntilItTakesTheSlotOfAKilledWorker() throws Exception {
        Path pidfile = dir.resolve("app.pid");
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "1", "--spare-workers", "1", "-b",
                "127.0.0.1:0", "-p", pidfile.toString(), "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            Config status = Ctl.status(pidfile);
            assertEquals(1, status.getInt("spare_workers"));
            long serving = pids(pidfile, "serving").get(0);
            long spare = onlySpare(pidfile);
            DroverProcess.Result table = Ctl.run(pidfile, "status");
            assertTrue(table.output().contains("workers 1 (wanted 1)  spares 1 (wanted 1)"), table.output());
            try (Load load = Load.start(port, "/", 2, 2)) {
                load.awaitMore(300, Duration.ofSeconds(30));
                assertEquals(Set.of(serving), load.byWorker.keySet(), "the spare accepted: " + load.summary());
                int mark = drover.lineCount();
                ProcessHandle.of(serving).orElseThrow().destroyForcibly();
                drover.awaitLine("worker 1 \\(pid " + spare + ", gen 1\\) promoted from spare to replace worker 1 "
                        + "\\(pid " + serving + ", gen 1\\) \\(crash\\)", mark, Duration.ofSeconds(10));
                // Its own output lines carry its slot's name from the promotion on.
                drover.awaitLine("worker 1 \\(pid " + spare + ", gen 1\\) \\| .*promoted: accepting", mark,
                        Duration.ofSeconds(10));
                DroverProcess.awaitCondition("the promoted spare answers", Duration.ofSeconds(10),
                        () -> load.byWorker.containsKey(spare));
                awaitNewSpare(pidfile, Set.of(serving, spare), Duration.ofSeconds(60));
                load.awaitMore(100, Duration.ofSeconds(30));
                load.close();
                assertEquals(Set.of(serving, spare), load.byWorker.keySet(), "only the killed worker and the promoted"
                        + " spare answered (a spare never accepts): " + load.summary());
                // Only requests the killed worker had accepted can fail: at most one per client (4).
                assertTrue(load.failed.get() <= 4, load.summary());
            }
            assertEquals(List.of(spare), pids(pidfile, "serving"));
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void maxRequestsRecyclesPromoteTheSpareLosingNothing() throws Exception {
        Path pidfile = dir.resolve("app.pid");
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "1", "--spare-workers", "1", "--max-requests",
                "300", "-b", "127.0.0.1:0", "-p", pidfile.toString(), "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            try (Load load = Load.start(port, "/", 2, 2, 5)) {
                for (int i = 0; i < 2; i++) {
                    drover.awaitLine("promoted from spare to replace worker 1 \\(pid \\d+, gen 1\\) \\(max-requests\\)",
                            drover.lineCount(), Duration.ofSeconds(60));
                    drover.awaitLine("spare \\(pid \\d+, gen 1\\) ready in", drover.lineCount(), Duration.ofSeconds(60));
                }
                load.close();
                assertEquals(0, load.failed.get(), load.summary());
            }
            assertTrue(drover.countLines("promoted from spare") >= 2);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aReloadStopsTheOldSpareAndTheNewGenerationGetsItsOwnLosingNothing() throws Exception {
        Path pidfile = dir.resolve("app.pid");
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "1", "--spare-workers", "1", "-b",
                "127.0.0.1:0", "-p", pidfile.toString(), "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            long oldSpare = onlySpare(pidfile);
            try (Load load = Load.start(port, "/", 2, 2, 5)) {
                load.awaitMore(100, Duration.ofSeconds(30));
                int mark = drover.lineCount();
                ReloadIT.signal(drover, "HUP");
                drover.awaitLine("spare \\(pid " + oldSpare + ", gen 1\\) stopped: generation 2 replaces generation 1",
                        mark, Duration.ofSeconds(10));
                drover.awaitLine("reload to generation 2 complete", mark, Duration.ofSeconds(60));
                drover.awaitLine("spare \\(pid \\d+, gen 2\\) ready in", mark, Duration.ofSeconds(60));
                load.awaitMore(100, Duration.ofSeconds(30));
                load.close();
                assertEquals(0, load.failed.get(), load.summary());
                assertTrue(!load.byWorker.containsKey(oldSpare), "the old spare answered: " + load.summary());
            }
            Config spare = Ctl.status(pidfile).getConfigList("workers").stream()
                    .filter(w -> w.getString("state").equals("spare")).findFirst().orElseThrow();
            assertEquals(2, spare.getInt("generation"));
            assertTrue(!DroverProcess.alive(oldSpare), "the old spare is gone");
        }
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aForeignAppsSpareAcceptsOnlyOnceItIsPromoted() throws Exception {
        Path app = ForeignApps.privateCopy(Examples.JETTY, dir);
        Path pidfile = dir.resolve("app.pid");
        try (DroverProcess drover = ForeignApps.start(app, "-w", "1", "--spare-workers", "1", "-b", "127.0.0.1:0",
                "-p", pidfile.toString())) {
            int port = drover.awaitServing(2, ForeignApps.BOOT);
            long serving = pids(pidfile, "serving").get(0);
            long spare = onlySpare(pidfile);
            drover.awaitLine("spare: ready, not accepting", Duration.ofSeconds(10));
            for (int i = 0; i < 40; i++) {
                assertEquals(serving, Http.get(port, "/hello").workerPid(), "the spare accepted before PROMOTE");
            }
            int mark = drover.lineCount();
            ProcessHandle.of(serving).orElseThrow().destroyForcibly();
            drover.awaitLine("worker 1 \\(pid " + spare + ", gen 1\\) promoted from spare", mark, Duration.ofSeconds(10));
            drover.awaitLine("promoted: accepting on 1 socket\\(s\\)", mark, Duration.ofSeconds(10));
            Http.Response response = Http.get(port, "/hello");
            assertEquals(200, response.status(), response.body());
            assertEquals(spare, response.workerPid());
            awaitNewSpare(pidfile, Set.of(serving, spare), ForeignApps.BOOT);
        }
    }
}
