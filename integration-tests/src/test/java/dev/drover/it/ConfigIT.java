package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * Values of the right type that cannot work are refused (exit 2, nothing started), likely mistakes are warned
 * about, and the app's classpath is read as java -cp reads it, with nothing on it the app did not name.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ConfigIT {

    private static final String SAMPLE = "dev.drover.sample.SampleApp";

    @TempDir
    Path dir;

    private DroverProcess.Result drover(Map<String, String> env, String... args) throws Exception {
        return DroverProcess.run(List.of(args), env, Duration.ofSeconds(60));
    }

    private static void assertRefused(DroverProcess.Result result, String... fragments) {
        assertEquals(2, result.exitCode(), result.output());
        assertFalse(result.spawnedAnyWorker(), "no worker may be spawned: " + result.output());
        for (String fragment : fragments) {
            assertTrue(result.output().contains(fragment), "expected \"" + fragment + "\" in:\n" + result.output());
        }
    }

    @Test
    void jvmOptionsTheWorkerJvmRefusesAreRefusedInItsOwnWords() throws Exception {
        assertRefused(drover(Map.of("DROVER_WORKER_JVM_OPTIONS", "-XX:+NoSuchOption"), "--check-config", SAMPLE),
                "drover.worker-jvm-options = [\"-XX:+NoSuchOption\"] (environment variable DROVER_WORKER_JVM_OPTIONS): "
                        + "the worker JVM refuses them: \"Unrecognized VM option 'NoSuchOption'\"");
        Path conf = Files.writeString(dir.resolve("tiny.conf"), "drover.worker-jvm-options = [\"-Xmx1k\"]\n");
        assertRefused(drover(Map.of(), "--check-config", "-c", conf.toString(), SAMPLE),
                "drover.worker-jvm-options = [\"-Xmx1k\"] (" + conf + ":1): the worker JVM refuses them: "
                        + "\"Too small maximum heap\"");
        // Not only when asked to check: a start is refused the same way, before any worker is spawned.
        assertRefused(drover(Map.of("DROVER_WORKER_JVM_OPTIONS", "-XX:+NoSuchOption"), "-b", "127.0.0.1:0", SAMPLE),
                "Unrecognized VM option 'NoSuchOption'");
    }

    @Test
    void aHardLimitNoWorkerFitsAndAFractionalCountAreRefused() throws Exception {
        Path conf = Files.writeString(dir.resolve("app.conf"), "drover {\n  memory.hard-limit = 1K\n  workers = 2.5\n}\n");
        assertRefused(drover(Map.of(), "--check-config", "-c", conf.toString(), SAMPLE),
                "drover.memory.hard-limit = \"1K\" (" + conf + ":2): below the least a worker needs (80 MiB: ",
                "(expected: 0 (off) or at least 80M)",
                "drover.workers = 2.5 (" + conf + ":3): not a whole number (expected: a whole number >= 1 or auto)");
    }

    @Test
    void moreWorkersThanMemoryIsAWarningNotARefusal() throws Exception {
        DroverProcess.Result result = drover(Map.of("DROVER_WORKERS", "100000"), "--check-config", SAMPLE);
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().matches("(?s).*drover: warning: drover\\.workers = 100000 \\(environment variable "
                + "DROVER_WORKERS\\): more workers than this machine's memory can hold: 100000 x 336 MiB \\(-Xmx256m "
                + "from drover\\.worker-jvm-options \\+ ~80 MiB outside the heap\\) \\+ ~64 MiB for the master = "
                + "32\\.0 TiB, but [0-9.]+ [KMGT]iB is available \\((MemAvailable in /proc/meminfo|memory\\.max of this "
                + "process's cgroup|memory\\.limit_in_bytes of this process's cgroup \\(cgroup v1\\))\\); at most \\d+ "
                + "fit.*"), result.output());
        assertTrue(result.output().contains("configuration OK (100000 worker(s)"), result.output());
    }

    @Test
    void theLaunchersInternalPropertiesAreNotKeysOfTheUsersFile() throws Exception {
        Path conf = Files.writeString(dir.resolve("app.conf"), "drover {\n  logging = x\n  worker.classpath = y\n}\n");
        assertRefused(drover(Map.of(), "--check-config", "-c", conf.toString(), SAMPLE),
                "drover.logging = \"x\" (" + conf + ":2): unknown key (expected: one of [drover.app,",
                "drover.worker.classpath = \"y\" (" + conf + ":3): unknown key");
    }

    @Test
    void aPathThatCannotBeReadSaysWhy() throws Exception {
        Path file = Files.writeString(dir.resolve("app.jar"), "");
        assertRefused(drover(Map.of(), "--check-config", "--classpath", file + "/lib/*", SAMPLE),
                "drover.classpath = [\"" + file + "/lib/*\"] (command-line flag --classpath): cannot list the directory "
                        + "of " + file + "/lib/*: Not a directory");
    }

    @Test
    void onlyWhatTheAppNamesIsOnItsClasspath() throws Exception {
        // The sample app's jar used to be on every worker's classpath; now an app without it cannot be found.
        assertRefused(drover(Map.of("DROVER_CLASSPATH", ""), "--check-config", "dev.drover.sample.BrokenApp"),
                "drover.app = dev.drover.sample.BrokenApp (command-line argument APP): class not found on the "
                        + "workers' classpath");
    }

    @Test
    void aDirectoryOfJarsAndItsWildcardBothLoadTheJars() throws Exception {
        Path lib = Files.createDirectories(dir.resolve("lib"));
        Files.copy(DroverProcess.SAMPLE_JAR, lib.resolve("sample-app.jar"));
        Map<String, String> env = Map.of("DROVER_CLASSPATH", "", "DROVER_CDS_ENABLED", "false");
        for (String classpath : List.of(lib + "/*", lib + "/")) {
            try (DroverProcess drover = DroverProcess.start(List.of("-w", "1", "-b", "127.0.0.1:0", "--classpath",
                    classpath, SAMPLE), env)) {
                int port = drover.awaitServing(1, Duration.ofSeconds(60));
                assertEquals(200, Http.get(port, "/").status(), "--classpath " + classpath + ":\n" + drover.output());
            }
        }
    }

    @Test
    void aReloadWithOptionsTheJvmRefusesChangesNothing() throws Exception {
        Path pidfile = dir.resolve("app.pid");
        Path conf = dir.resolve("app.conf");
        String base = "drover {\n  app = " + SAMPLE + "\n  bind = [\"127.0.0.1:0\"]\n  pidfile = \"" + pidfile + "\"\n";
        Files.writeString(conf, base + "}\n");
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()),
                Map.of("DROVER_CDS_ENABLED", "false"))) {
            int port = drover.awaitServing(1, Duration.ofSeconds(60));
            Files.writeString(conf, base + "  worker-jvm-options = [\"-XX:+NoSuchOption\"]\n}\n");
            DroverProcess.Result refused = Ctl.run(pidfile, "reload");
            assertEquals(2, refused.exitCode(), refused.output());
            assertTrue(refused.output().contains("reload refused, nothing changed: drover.worker-jvm-options = "
                    + "[\"-XX:+NoSuchOption\"] (" + conf + ":5): the worker JVM refuses them: \"Unrecognized VM option "
                    + "'NoSuchOption'\""), refused.output());
            assertEquals(200, Http.get(port, "/").status());
            assertEquals(1, drover.workerPids().size(), "no worker replaced: " + drover.output());
        }
    }
}
