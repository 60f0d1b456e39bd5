package dev.drover.supervisor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Values the loader refuses although their type is right: fractions, memory limits no worker fits, internal keys. */
class ValuesThatCannotWorkTest {

    @TempDir
    Path dir;

    private static final ConfigSources.Flag APP = new ConfigSources.Flag("drover.app", "dev.example.App", "argument APP");

    private Settings load(Optional<Path> file, Map<String, String> env, ConfigSources.Flag... flags) throws ConfigError {
        return ConfigLoader.load(new ConfigSources(file, env, List.of(flags)));
    }

    private String problem(Optional<Path> file, Map<String, String> env, ConfigSources.Flag... flags) {
        return assertThrows(ConfigError.class, () -> load(file, env, flags)).getMessage();
    }

    private Path file(String... lines) throws Exception {
        return Files.writeString(dir.resolve("app.conf"), String.join("\n", lines) + "\n");
    }

    @Test
    void aFractionIsNotAWholeNumberWhereverItComesFrom() throws Exception {
        Path conf = file("drover {", "  workers = 2.5", "  max-requests = 0.1", "  warmup.requests = 1e-3", "}");
        String message = problem(Optional.of(conf), Map.of(), APP);
        assertTrue(message.contains("drover.workers = 2.5 (" + conf + ":2): not a whole number (expected: a whole "
                + "number >= 1 or auto)"), message);
        assertTrue(message.contains("drover.max-requests = 0.1 (" + conf + ":3): not a whole number"), message);
        assertTrue(message.contains("drover.warmup.requests = 0.001 (" + conf + ":4): not a whole number"), message);
        assertTrue(problem(Optional.empty(), Map.of("DROVER_WORKERS", "2.5"), APP).contains(
                "drover.workers = \"2.5\" (environment variable DROVER_WORKERS): not a whole number"));
        assertTrue(problem(Optional.empty(), Map.of(), APP, new ConfigSources.Flag("drover.workers", "0.5",
                "flag -w/--workers")).contains("(command-line flag -w/--workers): not a whole number"));
        assertEquals(3, load(Optional.empty(), Map.of("DROVER_WORKERS", "3"), APP).workers());
        // Whole numbers written otherwise are whole numbers.
        Settings whole = load(Optional.of(file("drover { workers = 3.0, max-requests = 1e3 }")),
                Map.of("DROVER_BACKLOG", "100.0"), APP);
        assertEquals(3, whole.workers());
        assertEquals(1000, whole.recycle().maxRequests());
        assertEquals(100, whole.backlog());
        assertTrue(problem(Optional.empty(), Map.of("DROVER_WORKERS", "1e10"), APP).contains("out of range"));
    }

    @Test
    void internalPropertiesOfTheLauncherAreNotSettings() throws Exception {
        String saved = System.getProperty("drover.logging");
        System.setProperty("drover.logging", "master"); // as the launcher sets it for the master JVM
        System.setProperty("drover.bundled.classpath", "/somewhere/app.jar");
        try {
            Path conf = file("drover {", "  logging = x", "  bundled.classpath = y", "}");
            String message = problem(Optional.of(conf), Map.of(), APP);
            assertTrue(message.contains("drover.logging = \"x\" (" + conf + ":2): unknown key"), message);
            assertTrue(message.contains("drover.bundled.classpath = \"y\" (" + conf + ":3): unknown key"), message);
            assertTrue(!message.contains("drover.logging,") && !message.contains("drover.logging]"),
                    "not offered as a key: " + message);
        } finally {
            System.clearProperty("drover.bundled.classpath");
            if (saved == null) {
                System.clearProperty("drover.logging");
            } else {
                System.setProperty("drover.logging", saved);
            }
        }
    }

    @Test
    void memoryLimitsBelowWhatAWorkerNeedsAreRefused() throws Exception {
        Path conf = file("drover.memory {", "  soft-limit = 10M", "  hard-limit = 1K", "}");
        String message = problem(Optional.of(conf), Map.of(), APP);
        assertTrue(message.contains("drover.memory.hard-limit = \"1K\" (" + conf + ":3): below the least a worker "
                + "needs (80 MiB: a worker of a minimal app measured 59-66 MB at READY"), message);
        assertTrue(message.contains("(expected: 0 (off) or at least 80M)"), message);
        assertTrue(message.contains("drover.memory.soft-limit = \"10M\" (" + conf + ":2): below the least"), message);
        assertEquals(1, message.lines().filter(l -> l.contains("hard-limit")).count(),
                "no second complaint that hard is not above soft: " + message);
        MemoryLimits ok = load(Optional.of(file("drover.memory { soft-limit = 80M, hard-limit = 1G }")), Map.of(), APP)
                .memory();
        assertEquals(80L << 20, ok.softLimit());
    }

    @Test
    void theInitialHeapRaisesTheFloor() throws Exception {
        Path conf = file("drover {", "  worker-jvm-options = [\"-Xms256m\", \"-Xmx1g\"]", "  memory.hard-limit = 200M",
                "}");
        assertTrue(problem(Optional.of(conf), Map.of(), APP).contains("below the least a worker needs (256 MiB: the "
                + "initial heap -Xms256m in drover.worker-jvm-options"));
        Path touched = file("drover {", "  worker-jvm-options = [\"-Xms256m\", \"-XX:+AlwaysPreTouch\"]",
                "  memory.hard-limit = 300M", "}");
        assertTrue(problem(Optional.of(touched), Map.of(), APP).contains("(336 MiB: "));
        assertEquals(336L << 20, WorkerMemory.floor(List.of("-Xms1g", "-Xms256m", "-XX:+AlwaysPreTouch")));
        assertEquals(80L << 20, WorkerMemory.floor(List.of("-Xms256m", "-XX:+AlwaysPreTouch", "-Xms16m",
                "-XX:-AlwaysPreTouch")));
    }

    @Test
    void jvmSizesAreReadAsTheJvmReadsThem() {
        assertEquals(256L << 20, WorkerMemory.maxHeap(List.of("-Xmx1g", "-XX:MaxHeapSize=256M")).getAsLong());
        assertEquals(1L << 40, WorkerMemory.jvmSize("1t").getAsLong());
        assertEquals(4096, WorkerMemory.jvmSize("4k").getAsLong() - 0);
        assertTrue(WorkerMemory.jvmSize("1.5g").isEmpty());
        assertTrue(WorkerMemory.maxHeap(List.of("-Xms1g")).isEmpty());
    }
}
