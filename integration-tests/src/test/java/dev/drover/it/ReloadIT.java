package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Reloads under load: HUP replaces every worker canary-first and surge-first, and never makes things worse. */
class ReloadIT {

    @TempDir
    Path dir;

    private Path pidfile;
    private Path conf;

    private Path writeConfig(int workers, String extra) throws Exception {
        pidfile = dir.resolve("app.pid");
        conf = dir.resolve("app.conf");
        Files.writeString(conf, String.join("\n",
                "drover {",
                "  app = dev.drover.sample.SampleApp",
                "  bind = [\"127.0.0.1:0\"]",
                "  workers = " + workers,
                "  pidfile = \"" + pidfile + "\"",
                "}",
                extra, ""));
        return conf;
    }

    static void signal(DroverProcess drover, String signal) throws Exception {
        kill(signal, drover.pid());
    }

    static void kill(String signal, long pid) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start().waitFor());
    }

    private Set<Long> servingPids() throws Exception {
        return new HashSet<>(Ctl.servingPids(pidfile));
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void tenReloadsInARowUnderLoadLoseNothing() throws Exception {
        writeConfig(2, "");
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            Set<Long> before = servingPids();
            try (Load load = Load.start(port, "/", 2, 2, 5)) {
                for (int generation = 2; generation <= 11; generation++) {
                    int mark = drover.lineCount();
                    signal(drover, "HUP");
                    drover.awaitLine("reload to generation " + generation + " complete: 2 worker\\(s\\) serving", mark,
                            Duration.ofSeconds(60));
                    Config status = Ctl.status(pidfile);
                    assertEquals(generation, status.getInt("generation"));
                    Set<Long> after = servingPids();
                    assertEquals(2, after.size(), "two workers after reload " + generation);
                    for (long pid : after) {
                        assertTrue(!before.contains(pid), "every worker pid changes at each reload: " + before + " -> "
                                + after);
                    }
                    for (Config w : status.getConfigList("workers")) {
                        assertEquals(generation, w.getInt("generation"));
                    }
                    before = after;
                }
                load.close();
                assertEquals(0, load.failed.get(), load.summary() + "\n" + drover.output());
                assertTrue(load.ok.get() > 1000, load.summary());
                assertTrue(load.byWorker.size() >= 22, "requests reached the workers of every generation: "
                        + load.byWorker.keySet());
            }
        }
    }

    @Test
    void aNewWorkerCountInTheFileTakesEffectAtReload() throws Exception {
        writeConfig(1, "");
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()))) {
            drover.awaitServing(1, Duration.ofSeconds(60));
            writeConfig(3, "");
            signal(drover, "HUP");
            drover.awaitLine("reload to generation 2 complete: 3 worker\\(s\\) serving", Duration.ofSeconds(60));
            Config status = Ctl.status(pidfile);
            assertEquals(3, status.getConfigList("workers").stream()
                    .filter(w -> w.getString("state").equals("serving") && w.getInt("generation") == 2).count());
            assertEquals(3, status.getInt("workers_wanted"));
        }
    }

    @Test
    void aBrokenNewVersionNeverReplacesTheOldOne() throws Exception {
        writeConfig(2, "");
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            Set<Long> before = servingPids();
            try (Load load = Load.start(port, "/", 2, 2, 5)) {
                writeConfig(2, "sample { fail-on-start = true }");
                signal(drover, "HUP");
                drover.awaitLine("reload to generation 2 abandoned: its canary worker \\d+ \\(pid \\d+, gen 2\\) could not "
                        + "boot \\(exited with code 3\\); generation 1 keeps serving", Duration.ofSeconds(60));
                drover.awaitLine("sample.fail-on-start = true: refusing to start", Duration.ofSeconds(5));

                Files.writeString(conf, Files.readString(conf).replace("workers = 2", "workers = many"));
                DroverProcess.Result refused = Ctl.run(pidfile, "reload");
                assertEquals(2, refused.exitCode(), refused.output());
                assertTrue(refused.output().contains("reload refused, nothing changed: drover.workers = \"many\" ("
                        + conf + ":4): not a whole number"), refused.output());
                load.awaitMore(200, Duration.ofSeconds(30));
                load.close();
                assertEquals(0, load.failed.get(), load.summary() + "\n" + drover.output());
            }
            assertEquals(before, servingPids(), "the old workers were never touched");
            Config status = Ctl.status(pidfile);
            assertEquals(1, status.getInt("generation"));
            assertEquals("none", status.getString("reload"));
            assertEquals(200, Http.get(port, "/").status());
        }
    }

    @Test
    void aBurstOfFiftyReloadsConvergesToOneGenerationWithNoStrayProcess() throws Exception {
        writeConfig(2, "");
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()))) {
            drover.awaitServing(2, Duration.ofSeconds(60));
            Process burst = new ProcessBuilder("bash", "-c",
                    "for i in $(seq 50); do kill -HUP " + drover.pid() + "; done").start();
            assertEquals(0, burst.waitFor());
            DroverProcess.awaitCondition("one stable generation", Duration.ofSeconds(120), () -> {
                try {
                    Config status = Ctl.status(pidfile);
                    int generation = status.getInt("generation");
                    return status.getString("reload").equals("none") && generation > 1
                            && status.getConfigList("workers").size() == 2
                            && status.getConfigList("workers").stream().allMatch(w ->
                                    w.getInt("generation") == generation && w.getString("state").equals("serving"));
                } catch (Exception e) {
                    return false;
                }
            });
            Set<Long> serving = servingPids();
            DroverProcess.awaitCondition("no process but the two workers", Duration.ofSeconds(10), () ->
                    drover.process().toHandle().children().filter(h -> DroverProcess.alive(h.pid()))
                            .map(ProcessHandle::pid).collect(Collectors.toSet()).equals(serving));
        }
    }

    @Test
    void changedAddressesAreBoundBeforeTheOldOnesCloseAndATakenOneRefusesTheReload() throws Exception {
        int first = freePort();
        int second = freePort();
        writeConfig(1, "").toString();
        Files.writeString(conf, Files.readString(conf).replace("127.0.0.1:0", "127.0.0.1:" + first));
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()))) {
            drover.awaitServing(1, Duration.ofSeconds(60));
            try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                Files.writeString(conf, Files.readString(conf).replace("127.0.0.1:" + first,
                        "127.0.0.1:" + taken.getLocalPort()));
                DroverProcess.Result refused = Ctl.run(pidfile, "reload");
                assertEquals(2, refused.exitCode(), refused.output());
                assertTrue(refused.output().contains("reload refused, nothing changed: drover.bind = 127.0.0.1:"
                        + taken.getLocalPort()), refused.output());
                assertTrue(refused.output().contains("Address already in use"), refused.output());
                assertEquals(200, Http.get(first, "/").status());
            }
            Files.writeString(conf, Files.readString(conf).replaceAll("127.0.0.1:\\d+", "127.0.0.1:" + second));
            signal(drover, "HUP");
            drover.awaitLine("reload to generation 2 complete", Duration.ofSeconds(60));
            assertEquals(200, Http.get(second, "/").status());
            DroverProcess.awaitCondition("the old address closed", Duration.ofSeconds(10), () -> {
                try {
                    Http.get(first, "/");
                    return false;
                } catch (java.io.IOException refusedNow) {
                    return true;
                }
            });
        }
    }

    @Test
    void ctlRecycleAndStopAnswerWithWhatTheyDid() throws Exception {
        writeConfig(2, "");
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()))) {
            drover.awaitServing(2, Duration.ofSeconds(60));
            DroverProcess.Result recycle = Ctl.run(pidfile, "recycle", "2");
            assertEquals(0, recycle.exitCode(), recycle.output());
            assertTrue(recycle.output().matches("(?s)recycling worker 2 \\(pid \\d+, gen 1\\): its replacement boots first\\s*"),
                    recycle.output());
            drover.awaitLine("worker 2 \\(pid \\d+, gen 1\\) recycled \\(manual\\)", Duration.ofSeconds(60));
            DroverProcess.Result incr = Ctl.run(pidfile, "incr");
            assertEquals("workers: 2 -> 3", incr.output().trim());
            DroverProcess.Result decr = Ctl.run(pidfile, "decr");
            assertEquals("workers: 3 -> 2", decr.output().trim());
            DroverProcess.Result stop = Ctl.run(pidfile, "stop");
            assertEquals(0, stop.exitCode(), stop.output());
            assertTrue(stop.output().startsWith("graceful stop of "), stop.output());
            assertEquals(0, drover.awaitExit(Duration.ofSeconds(40)));
        }
    }

    private static int freePort() throws Exception {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
