package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import dev.drover.supervisor.os.ProcSockets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * drover.standby-jvms: JVMs booted with Drover's runtime and no app wait beside the workers; a reload's new workers
 * are those JVMs (they load the new config and app at ADOPT), a broken new version in them never replaces the old
 * one, and a reload that changes the workers' JVM stops them and boots its workers as usual.
 */
class StandbyJvmsIT {

    @TempDir
    Path dir;

    private Path conf;
    private Path pidfile;

    private void writeConfig(String jvmOptions, String sample) throws Exception {
        pidfile = dir.resolve("app.pid");
        conf = dir.resolve("drover.conf");
        Files.writeString(conf, String.join("\n",
                "drover {",
                "  app = dev.drover.sample.SampleApp",
                "  classpath = [\"" + DroverProcess.SAMPLE_JAR + "\"]",
                "  workers = 2",
                "  standby-jvms = 2",
                "  bind = [\"127.0.0.1:0\"]",
                "  pidfile = \"" + pidfile + "\"",
                "  worker-jvm-options = [" + jvmOptions + "]",
                "}",
                "sample { " + sample + " }", ""));
    }

    /** The pids `ctl status` shows in {@code state}, of generation {@code generation} (0: any). */
    private Set<Long> pids(String state, int generation) throws Exception {
        return Ctl.status(pidfile).getConfigList("workers").stream()
                .filter(w -> w.getString("state").equals(state)
                        && (generation == 0 || w.getInt("generation") == generation))
                .map(w -> w.getLong("pid")).collect(Collectors.toSet());
    }

    /** Waits until {@code count} standby JVMs that are none of {@code excluded} wait for their ADOPT. */
    private Set<Long> awaitStandbys(DroverProcess drover, int count, Set<Long> excluded) throws Exception {
        Set<Long> found = new HashSet<>();
        DroverProcess.awaitCondition(count + " standby JVMs waiting", Duration.ofSeconds(60), () -> {
            try {
                found.clear();
                pids("standby", 0).stream().filter(p -> !excluded.contains(p)
                        && drover.countLines("standby JVM \\(pid " + p + "\\) \\| .*waiting for the master's ADOPT") > 0)
                        .forEach(found::add);
                return found.size() >= count;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        return Set.copyOf(found);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aReloadUnderLoadAdoptsTheStandbysWhichServeTheNewConfigLosingNothing() throws Exception {
        writeConfig("", "greeting = \"hello\"");
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            Set<Long> old = pids("serving", 1);
            Set<Long> standbys = awaitStandbys(drover, 2, Set.of());
            for (long pid : standbys) {
                List<String> listening = ProcSockets.listeningBesides(pid, Set.of());
                assertTrue(listening.size() == 1 && listening.get(0).endsWith(":" + port), "a waiting standby (pid "
                        + pid + ") listens on Drover's socket alone, the loopback listener of its priming closed: "
                        + listening);
            }
            DroverProcess.Result table = Ctl.run(pidfile, "status");
            assertTrue(table.output().contains("workers 2 (wanted 2)  standby JVMs 2 (wanted 2)"), table.output());
            try (Load load = Load.start(port, "/", 2, 2, 5)) {
                load.awaitMore(200, Duration.ofSeconds(30));
                int mark = drover.lineCount();
                Files.writeString(conf, Files.readString(conf).replace("\"hello\"", "\"howdy\""));
                ReloadIT.signal(drover, "HUP");
                drover.awaitLine("reload to generation 2 complete", mark, Duration.ofSeconds(60));
                for (long pid : standbys) {
                    drover.awaitLine("worker [12] \\(pid " + pid + ", gen 2\\) spawned: standby JVM \\(pid " + pid
                            + "\\) adopted \\(booted [0-9.]+s ago, no JVM start\\)", mark, Duration.ofSeconds(5));
                }
                DroverProcess.awaitCondition("both adopted standbys answer", Duration.ofSeconds(30),
                        () -> load.byWorker.keySet().containsAll(standbys));
                load.awaitMore(200, Duration.ofSeconds(30));
                load.close();
                assertEquals(0, load.failed.get(), load.summary());
            }
            assertEquals(standbys, pids("serving", 2), "generation 2's workers are the standby JVMs");
            assertTrue(old.stream().noneMatch(DroverProcess::alive), "the old workers are gone");
            Http.Response r = Http.get(port, "/");
            assertTrue(r.body().startsWith("howdy from worker"), "the new config, read at adoption: " + r.body());
            Set<Long> next = awaitStandbys(drover, 2, standbys);
            assertEquals(2, next.size(), "new standby JVMs after the reload");
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aBrokenNewVersionInTheStandbysNeverReplacesTheOldOne() throws Exception {
        writeConfig("", "");
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            Set<Long> old = pids("serving", 1);
            Set<Long> standbys = awaitStandbys(drover, 2, Set.of());
            try (Load load = Load.start(port, "/", 2, 2, 5)) {
                int mark = drover.lineCount();
                Files.writeString(conf, Files.readString(conf).replace("sample {  }", "sample { fail-on-start = true }"));
                ReloadIT.signal(drover, "HUP");
                drover.awaitLine("reload to generation 2 abandoned: its canary worker \\d+ \\(pid \\d+, gen 2\\) could not "
                        + "boot \\(exited with code 3\\); generation 1 keeps serving", mark, Duration.ofSeconds(60));
                drover.awaitLine("sample.fail-on-start = true: refusing to start", mark, Duration.ofSeconds(5));
                load.awaitMore(200, Duration.ofSeconds(30));
                load.close();
                assertEquals(0, load.failed.get(), load.summary());
                assertEquals(old, load.byWorker.keySet(), "only the old workers answered: " + load.summary());
            }
            assertEquals(old, pids("serving", 1), "the old workers were never touched");
            DroverProcess.awaitCondition("the adopted standbys are gone", Duration.ofSeconds(30),
                    () -> standbys.stream().noneMatch(DroverProcess::alive));
            assertEquals(200, Http.get(port, "/").status());
        }
    }

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void aReloadThatChangesTheJvmStopsTheStandbysAndAKilledWorkersSlotAdoptsANewOne() throws Exception {
        writeConfig("", "");
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            Set<Long> standbys = awaitStandbys(drover, 2, Set.of());
            int mark = drover.lineCount();
            Files.writeString(conf, Files.readString(conf).replace("worker-jvm-options = []",
                    "worker-jvm-options = [\"-Xmx200m\"]"));
            ReloadIT.signal(drover, "HUP");
            for (long pid : standbys) {
                drover.awaitLine("standby JVM \\(pid " + pid + "\\) stopped: generation 2's workers run another JVM",
                        mark, Duration.ofSeconds(30));
            }
            drover.awaitLine("reload to generation 2 complete", mark, Duration.ofSeconds(60));
            Set<Long> serving = pids("serving", 2);
            assertTrue(serving.stream().noneMatch(standbys::contains), "spawned, not adopted: " + serving);
            Set<Long> next = awaitStandbys(drover, 2, standbys);
            for (long pid : next) {
                String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"));
                assertTrue(cmdline.contains("-Xmx200m"), "a standby of the new JVM: " + cmdline);
            }
            try (Load load = Load.start(port, "/", 2, 2, 5)) {
                load.awaitMore(100, Duration.ofSeconds(30));
                long victim = serving.iterator().next();
                mark = drover.lineCount();
                ProcessHandle.of(victim).orElseThrow().destroyForcibly();
                drover.awaitLine("worker [12] \\(pid \\d+, gen 2\\) spawned: standby JVM \\(pid \\d+\\) adopted", mark,
                        Duration.ofSeconds(30));
                DroverProcess.awaitCondition("2 workers serving again", Duration.ofSeconds(30), () -> {
                    try {
                        return pids("serving", 2).size() == 2;
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
                load.awaitMore(100, Duration.ofSeconds(30));
                load.close();
                // Only requests the killed worker had accepted can fail: at most one per client (4).
                assertTrue(load.failed.get() <= 4, load.summary());
            }
            Config status = Ctl.status(pidfile);
            assertEquals(2, status.getInt("standby_jvms"));
        }
    }

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void recyclesUnderLoadAdoptTheStandbyAndStayWithinWorkersPlusMaxSurge() throws Exception {
        writeConfig("", "");
        Files.writeString(conf, Files.readString(conf).replace("standby-jvms = 2",
                "standby-jvms = 1\n  max-surge = 1\n  max-requests = 300"));
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            awaitStandbys(drover, 1, Set.of());
            long mostLive = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            try (Load load = Load.start(port, "/", 2, 2, 5)) {
                while (drover.countLines("spawned to replace worker \\d \\(pid \\d+, gen 1\\) \\(max-requests\\)") < 3) {
                    // What `ctl status` counts as running: a draining worker is on its way out, as for max-surge.
                    long live = Ctl.status(pidfile).getConfigList("workers").stream()
                            .filter(w -> List.of("booting", "serving", "standby").contains(w.getString("state")))
                            .count();
                    mostLive = Math.max(mostLive, live);
                    assertTrue(live <= 2 + 1, "workers + max-surge is 3; ctl status shows " + live + " running");
                    assertTrue(drover.process().isAlive(), drover.output());
                    assertTrue(System.nanoTime() < deadline, "3 max-requests recycles in 90 s: " + drover.output());
                }
                load.awaitMore(100, Duration.ofSeconds(30));
                load.close();
                assertEquals(0, load.failed.get(), "planned recycles lose nothing: " + load.summary());
            }
            assertTrue(mostLive >= 3, "the standby waited beside the workers: " + mostLive);
            // A replacement adopts the standby when one waits; one due while the next standby has not booted yet
            // boots a JVM of its own, within the same bound.
            assertTrue(drover.countLines("\\(pid \\d+, gen 1\\) spawned: standby JVM \\(pid \\d+\\) adopted") >= 1,
                    "recycles adopted the standby: " + drover.output());
        }
    }
}
