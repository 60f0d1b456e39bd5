package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Workers on another JDK than the master (drover.java-home): on JDK 25 they get an AOT cache instead of the AppCDS
 * archive, built by a training run, reused by the next start, and never used once a jar changes.
 */
class AotCacheIT {

    static final Path JDK25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64");

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void onJdk25WorkersBuildUseAndRebuildAnAotCache() throws Exception {
        assumeTrue(Files.isExecutable(JDK25.resolve("bin/java")), "no JDK 25 at " + JDK25 + ": nothing to test");
        Map<String, String> env = Map.of("DROVER_CDS_CACHE_DIR", dir.resolve("cache").toString());
        List<String> args = List.of("-w", "1", "-b", "127.0.0.1:0", "--java-home", JDK25.toString(),
                "dev.drover.sample.SampleApp");
        try (DroverProcess drover = DroverProcess.start(args, env)) {
            int port = drover.awaitServing(1, Duration.ofSeconds(60));
            drover.awaitLine("generation 1: building the AOT cache .*drover-[0-9a-f]+\\.aot with a training run "
                    + "\\(pid \\d+, Java 25\\)", Duration.ofSeconds(30));
            drover.awaitLine("AOT cache .* is ready", Duration.ofSeconds(90));
            int mark = drover.lineCount();
            ReloadIT.kill("KILL", drover.workerPids().iterator().next());
            drover.awaitLine("worker 1 \\(pid \\d+, gen 1\\) ready in \\d+ ms \\(spawn to READY; \\d+ ms of it in the "
                    + "worker's main; AOT cache\\)", mark, Duration.ofSeconds(30));
            assertEquals(200, Http.get(port, "/").status());
            assertFalse(drover.output().contains("WARNING: "), "a JDK 25 worker's output is clean:\n" + drover.output());
        }
        try (DroverProcess again = DroverProcess.start(args, env)) {
            again.awaitLine("generation 1: workers use the AOT cache .*\\.aot", Duration.ofSeconds(30));
            again.awaitLine("worker 1 \\(pid \\d+, gen 1\\) ready in .*; AOT cache\\)", Duration.ofSeconds(60));
        }
        Path extra = Files.copy(DroverProcess.HOME.resolve("sample-app/target/sample-app.jar"), dir.resolve("extra.jar"));
        List<String> changed = List.of("-w", "1", "-b", "127.0.0.1:0", "--java-home", JDK25.toString(),
                "--classpath", extra.toString(), "dev.drover.sample.SampleApp");
        try (DroverProcess changedJars = DroverProcess.start(changed, env)) {
            changedJars.awaitServing(1, Duration.ofSeconds(60));
            changedJars.awaitLine("generation 1: no AOT cache yet", Duration.ofSeconds(30));
            assertFalse(changedJars.output().contains("workers use the AOT cache"), changedJars.output());
            changedJars.awaitLine("AOT cache .* is ready", Duration.ofSeconds(90));
        }
        try (var caches = Files.list(dir.resolve("cache"))) {
            assertEquals(2, caches.filter(p -> p.toString().endsWith(".aot")).count(), "one cache per jar set");
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aJavaHomeThatIsNoJavaRuntimeIsRefused() throws Exception {
        DroverProcess.Result result = DroverProcess.run(List.of("-b", "127.0.0.1:0", "--java-home",
                dir.toString(), "dev.drover.sample.SampleApp"), Map.of(), Duration.ofSeconds(20));
        assertEquals(2, result.exitCode(), result.output());
        assertTrue(result.output().contains("drover.java-home = \"" + dir + "\" (command-line flag --java-home): no executable "
                + "bin/java in it"), result.output());
        assertFalse(result.spawnedAnyWorker(), result.output());
    }
}
