package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The master as PID 1 of a pid namespace of its own (`unshare --pid --fork --mount-proc`, as in a container without
 * an init): it reaps an orphaned grandchild (a worker's subprocess whose parent exited), the signals an operator
 * sends are caught, TERM stops gracefully with exit code 0, a bad configuration exits 2, and nothing stays behind.
 * Pids are the outer namespace's: unshare forks, and the master is unshare's child.
 */
class Pid1IT {

    @BeforeAll
    static void needsRootAndUnshare() {
        assumeTrue(uid() == 0, "Pid1IT needs root to create a pid namespace (unshare --pid); skipped as uid " + uid());
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")) || Files.isExecutable(Path.of("/bin/unshare")),
                "Pid1IT needs unshare(1) from util-linux; skipped");
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void reapsOrphansCatchesSignalsAndStopsGracefully() throws Exception {
        try (DroverProcess unshare = DroverProcess.startInPidNamespace(asPid1("-w", "1", "-b", "127.0.0.1:0",
                "dev.drover.sample.SampleApp"))) {
            int port = unshare.awaitServing(1, Duration.ofSeconds(60));
            unshare.awaitLine("running as PID 1: orphans re-parented to the master are reaped", Duration.ofSeconds(5));
            long master = ProcessHandle.of(unshare.pid()).orElseThrow().children().findFirst().orElseThrow().pid();
            assertEquals(List.of(), uncaught(master, "HUP", 1, "INT", 2, "QUIT", 3, "TERM", 15),
                    "as PID 1, a signal without a handler never arrives");

            Http.Response response = Http.get(port, "/orphan?ms=1500");
            assertEquals(200, response.status(), response.body());
            DroverProcess.awaitCondition("the orphaned sleep re-parented to the master", Duration.ofSeconds(5),
                    () -> children(master).stream().anyMatch(c -> command(c).equals("sleep")));
            DroverProcess.awaitCondition("the orphan reaped once it exits: no sleep and no zombie among the "
                    + "master's children", Duration.ofSeconds(15), () -> children(master).stream()
                    .noneMatch(c -> command(c).equals("sleep") || !DroverProcess.alive(c)));

            Set<Long> everyone = descendants(unshare.pid());
            ReloadIT.kill("TERM", master);
            assertEquals(0, unshare.awaitExit(Duration.ofSeconds(40)), unshare.output());
            assertTrue(unshare.output().contains("SIGTERM: graceful stop of 1 worker(s)"), unshare.output());
            assertTrue(unshare.output().contains("master 1 stopped"), unshare.output());
            DroverProcess.awaitCondition("no process of the namespace left", Duration.ofSeconds(5),
                    () -> everyone.stream().noneMatch(DroverProcess::alive));
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aBadConfigurationExitsTwo() throws Exception {
        try (DroverProcess unshare = DroverProcess.startInPidNamespace(asPid1("-w", "0", "-b", "127.0.0.1:0",
                "dev.drover.sample.SampleApp"))) {
            assertEquals(2, unshare.awaitExit(Duration.ofSeconds(50)), unshare.output());
            assertTrue(unshare.output().contains("drover.workers = \"0\" (command-line flag -w/--workers): out of range"), unshare.output());
        }
    }

    private static ProcessBuilder asPid1(String... args) {
        List<String> command = new ArrayList<>(List.of("unshare", "--pid", "--fork", "--mount-proc",
                DroverProcess.LAUNCHER.toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command);
    }

    /** The names of the signals whose bit is not set in the SigCgt (caught) mask of {@code pid}. */
    private static List<String> uncaught(long pid, Object... namesAndNumbers) throws IOException {
        long caught = Long.parseUnsignedLong(status(pid, "SigCgt:"), 16);
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < namesAndNumbers.length; i += 2) {
            if ((caught & (1L << ((Integer) namesAndNumbers[i + 1] - 1))) == 0) {
                missing.add((String) namesAndNumbers[i]);
            }
        }
        return missing;
    }

    /** Every child of {@code pid}, zombies included: the children files of all its threads. */
    private static List<Long> children(long pid) {
        List<Long> children = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks.toList()) {
                for (String child : Files.readString(task.resolve("children")).trim().split("\\s+")) {
                    if (!child.isEmpty()) {
                        children.add(Long.parseLong(child));
                    }
                }
            }
        } catch (IOException e) {
            return List.of(); // the master is gone
        }
        return children;
    }

    private static Set<Long> descendants(long pid) {
        Set<Long> all = new HashSet<>();
        for (long child : children(pid)) {
            all.add(child);
            all.addAll(descendants(child));
        }
        return all;
    }

    private static String command(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "comm")).trim();
        } catch (IOException e) {
            return "";
        }
    }

    private static String status(long pid, String field) throws IOException {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                .filter(l -> l.startsWith(field)).findFirst().orElseThrow().substring(field.length()).trim();
    }

    private static long uid() {
        try {
            return Long.parseLong(status(ProcessHandle.current().pid(), "Uid:").split("\\s+")[1]);
        } catch (IOException e) {
            return -1;
        }
    }
}
