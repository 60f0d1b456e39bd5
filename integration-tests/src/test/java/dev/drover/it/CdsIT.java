package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The master's AppCDS archive: built once the workers are up, used by later spawns, never used when stale. */
class CdsIT {

    @TempDir
    Path dir;

    @Test
    void builtInTheBackgroundThenUsedAndRebuiltWhenAJarChanges() throws Exception {
        Map<String, String> env = Map.of("DROVER_CDS_CACHE_DIR", dir.resolve("cache").toString());
        List<String> args = List.of("-w", "1", "-b", "127.0.0.1:0", "dev.drover.sample.SampleApp");
        try (DroverProcess drover = DroverProcess.start(args, env)) {
            int port = drover.awaitServing(1, Duration.ofSeconds(60));
            drover.awaitLine("generation 1: building the AppCDS archive .*drover-[0-9a-f]+\\.jsa with a training run",
                    Duration.ofSeconds(30));
            drover.awaitLine("AppCDS archive .* is ready", Duration.ofSeconds(120));
            assertEquals(200, Http.get(port, "/").status(), "serving went on while the archive was built");
            int mark = drover.lineCount();
            ReloadIT.kill("KILL", drover.workerPids().iterator().next());
            drover.awaitLine("worker 1 \\(pid \\d+, gen 1\\) ready in \\d+ ms \\(spawn to READY; \\d+ ms of it in the "
                    + "worker's main; AppCDS\\)", mark, Duration.ofSeconds(30));
            assertEquals(200, Http.get(port, "/").status());
        }
        try (DroverProcess again = DroverProcess.start(args, env)) {
            again.awaitLine("generation 1: workers use the AppCDS archive", Duration.ofSeconds(30));
            again.awaitLine("worker 1 \\(pid \\d+, gen 1\\) ready in .*; AppCDS\\)", Duration.ofSeconds(60));
        }
        // A jar the archive does not know (here an extra one on the app's classpath): a new archive, never the old.
        Path extra = Files.copy(DroverProcess.HOME.resolve("sample-app/target/sample-app.jar"), dir.resolve("extra.jar"));
        List<String> changed = List.of("-w", "1", "-b", "127.0.0.1:0", "--classpath", extra.toString(),
                "dev.drover.sample.SampleApp");
        try (DroverProcess changedJars = DroverProcess.start(changed, env)) {
            changedJars.awaitServing(1, Duration.ofSeconds(60));
            changedJars.awaitLine("generation 1: building the AppCDS archive", Duration.ofSeconds(30));
            assertTrue(!changedJars.output().contains("workers use the AppCDS archive"), changedJars.output());
            assertTrue(changedJars.output().matches("(?s).*worker 1 \\(pid \\d+, gen 1\\) ready in \\d+ ms \\(spawn to "
                    + "READY; \\d+ ms of it in the worker's main\\).*"), "its first worker ran without an archive");
            changedJars.awaitLine("AppCDS archive .* is ready", Duration.ofSeconds(120));
        }
        try (var archives = Files.list(dir.resolve("cache"))) {
            assertEquals(2, archives.filter(p -> p.toString().endsWith(".jsa")).count(), "one archive per jar set");
        }
    }
}
