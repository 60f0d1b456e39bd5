package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * drover.boot-nice: every thread of a booting worker runs at the master's nice + boot-nice, and at the master's
 * once it is READY (or, where the master may not lower a nice again, never niced at all, which the log says).
 */
class BootPriorityIT {

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aBootingWorkerRunsNicedAndServesAtTheMastersNice() throws Exception {
        Path conf = dir.resolve("app.conf");
        // A 4 s start keeps the worker booting long enough to look at its threads.
        Files.writeString(conf, String.join("\n", "drover {", "  app = dev.drover.sample.SampleApp",
                "  bind = [\"127.0.0.1:0\"]", "  workers = 1", "  boot-nice = 7", "}",
                "sample { start-delay = 4s }", ""));
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()))) {
            long pid = Long.parseLong(drover.awaitLine("worker 1 \\(pid (\\d+), gen 1\\) spawned",
                    Duration.ofSeconds(30)).group(1));
            int master = nices(drover.pid()).first();
            boolean permitted = !drover.output().contains("drover.boot-nice = 7 (");
            Set<Integer> booting = nicesOnceTheJvmRuns(pid);
            if (permitted) {
                assertEquals(Set.of(Math.min(19, master + 7)), booting, "a booting worker's threads:\n"
                        + drover.output());
            }
            drover.awaitLine("worker 1 \\(pid " + pid + ", gen 1\\) ready in", Duration.ofSeconds(60));
            DroverProcess.awaitCondition("every thread of the serving worker at the master's nice " + master,
                    Duration.ofSeconds(10), () -> nices(pid).equals(new TreeSet<>(Set.of(master))));
            assertFalse(drover.output().contains("it goes on at its boot nice"), drover.output());
        }
    }

    /**
     * drover.serving-nice needs no privilege (a nice only goes up): a worker boots at the master's nice and every
     * one of its threads goes to the master's + 5 at READY; the master stays where it was. A replacement boots at
     * the master's nice again.
     */
    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void servingNiceLowersServingWorkersBelowBootsAndTheMaster() throws Exception {
        Path conf = dir.resolve("app.conf");
        Files.writeString(conf, String.join("\n", "drover {", "  app = dev.drover.sample.SampleApp",
                "  bind = [\"127.0.0.1:0\"]", "  workers = 1", "  serving-nice = 5", "}",
                "sample { start-delay = 3s }", ""));
        Path pidfile = dir.resolve("app.pid");
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString(), "-p", pidfile.toString()))) {
            long pid = Long.parseLong(drover.awaitLine("worker 1 \\(pid (\\d+), gen 1\\) spawned",
                    Duration.ofSeconds(30)).group(1));
            int master = nices(drover.pid()).first();
            assertEquals(Set.of(master), nicesOnceTheJvmRuns(pid), "a booting worker: the master's nice");
            drover.awaitLine("worker 1 \\(pid " + pid + ", gen 1\\) ready in", Duration.ofSeconds(60));
            int serving = Math.min(19, master + 5);
            DroverProcess.awaitCondition("every thread of the serving worker at nice " + serving,
                    Duration.ofSeconds(10), () -> nices(pid).equals(new TreeSet<>(Set.of(serving))));
            assertEquals(Set.of(master), nices(drover.pid()), "the master's threads are not niced");
            assertEquals(0, Ctl.run(pidfile, "recycle", "1").exitCode());
            long next = Long.parseLong(drover.awaitLine("worker 1 \\(pid (\\d+), gen 1\\) spawned to replace",
                    Duration.ofSeconds(30)).group(1));
            assertEquals(Set.of(master), nicesOnceTheJvmRuns(next), "its replacement boots at the master's nice");
        }
    }

    /** The nices of the worker's threads once its JVM has started its own (the pid first runs the launcher). */
    private static Set<Integer> nicesOnceTheJvmRuns(long pid) throws InterruptedException {
        DroverProcess.awaitCondition("worker pid " + pid + " runs several threads", Duration.ofSeconds(20),
                () -> tids(pid).size() > 5);
        return nices(pid);
    }

    /** The nice of every thread of {@code pid}: field 19 of /proc/PID/task/TID/stat, counted after the name. */
    static TreeSet<Integer> nices(long pid) {
        TreeSet<Integer> nices = new TreeSet<>();
        for (String tid : tids(pid)) {
            try {
                String stat = Files.readString(Path.of("/proc", Long.toString(pid), "task", tid, "stat"));
                String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                nices.add(Integer.parseInt(fields[16]));
            } catch (NoSuchFileException e) {
                // the thread ended meanwhile
            } catch (IOException e) {
                throw new AssertionError("reading /proc/" + pid + "/task/" + tid + "/stat", e);
            }
        }
        return nices;
    }

    private static List<String> tids(long pid) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return tasks.map(t -> t.getFileName().toString()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }
}
