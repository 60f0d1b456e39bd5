package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each kind of bad input: one message naming the key, the value, where it came from and what was expected;
 * exit code 2; no worker spawned; no pidfile or socket left behind.
 */
class BadInputIT {

    @TempDir
    Path dir;

    private DroverProcess.Result drover(Map<String, String> env, String... args) throws Exception {
        return DroverProcess.run(List.of(args), env, Duration.ofSeconds(30));
    }

    private Path file(String name, String... lines) throws Exception {
        return Files.writeString(dir.resolve(name), String.join("\n", lines) + "\n");
    }

    private void assertRefused(DroverProcess.Result result, String... expectedFragments) {
        assertEquals(2, result.exitCode(), result.output());
        assertFalse(result.spawnedAnyWorker(), "no worker may be spawned: " + result.output());
        for (String fragment : expectedFragments) {
            assertTrue(result.output().contains(fragment), "expected \"" + fragment + "\" in:\n" + result.output());
        }
        assertFalse(Files.exists(dir.resolve("app.pid")), "no pidfile left behind");
    }

    @Test
    void wrongTypeInFileNamesFileAndLine() throws Exception {
        Path conf = file("my.conf", "drover {", "  app = dev.drover.sample.SampleApp", "  workers = four", "}");
        assertRefused(drover(Map.of(), "-c", conf.toString(), "-p", dir.resolve("app.pid").toString()),
                "drover.workers = \"four\" (" + conf + ":3): not a whole number (expected: a whole number >= 1 or auto)");
    }

    @Test
    void zeroAndNegativeCounts() throws Exception {
        assertRefused(drover(Map.of(), "-w", "0", "dev.drover.sample.SampleApp"),
                "drover.workers = \"0\" (command-line flag -w/--workers): out of range (expected: a whole number >= 1 or auto)");
        assertRefused(drover(Map.of("DROVER_WORKERS", "-3"), "dev.drover.sample.SampleApp"),
                "drover.workers = \"-3\" (environment variable DROVER_WORKERS): out of range");
    }

    @Test
    void unknownKeyInFileAndUnknownEnvironmentVariable() throws Exception {
        Path conf = file("typo.conf", "drover {", "  app = dev.drover.sample.SampleApp", "", "  worker = 4", "}");
        assertRefused(drover(Map.of(), "-c", conf.toString()),
                "drover.worker = 4 (" + conf + ":4): unknown key (expected: one of [drover.app, drover.app-args, drover.backlog,");
        assertRefused(drover(Map.of("DROVER_WORKRES", "4"), "dev.drover.sample.SampleApp"),
                "environment variable DROVER_WORKRES = 4: no such setting (expected one of: ", "DROVER_WORKERS");
    }

    @Test
    void malformedBindAddressAndBadDuration() throws Exception {
        assertRefused(drover(Map.of(), "-b", "localhost:99999", "dev.drover.sample.SampleApp"),
                "drover.bind = [\"localhost:99999\"] (command-line flag -b/--bind): malformed address \"localhost:99999\" "
                        + "(expected: HOST:PORT, [IPv6]:PORT, HOST, unix:PATH, fd://N or systemd:NAME");
        assertRefused(drover(Map.of(), "--graceful-timeout", "5 parsecs", "dev.drover.sample.SampleApp"),
                "drover.graceful-timeout = \"5 parsecs\" (command-line flag --graceful-timeout): not a duration");
    }

    @Test
    void portAlreadyInUse() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            String address = "127.0.0.1:" + taken.getLocalPort();
            Path pidfile = dir.resolve("app.pid");
            assertRefused(drover(Map.of(), "-b", "127.0.0.1:0", "-b", address, "-p", pidfile.toString(),
                    "dev.drover.sample.SampleApp"),
                    "drover.bind = " + address + " (command-line flag -b/--bind): cannot bind:", "Address already in use");
        }
    }

    @Test
    void missingAppClassAndMissingClasspath() throws Exception {
        assertRefused(drover(Map.of(), "com.example.NoSuchApp"),
                "drover.app = com.example.NoSuchApp (command-line argument APP): class not found on the workers' classpath");
        assertRefused(drover(Map.of(), "--classpath", dir.resolve("nope.jar").toString(), "dev.drover.sample.SampleApp"),
                "drover.classpath", "(command-line flag --classpath): cannot read " + dir.resolve("nope.jar")
                        + ": No such file or directory");
        assertRefused(drover(Map.of(), "-w", "2"), "drover.app = \"\" (the default in reference.conf): no application given");
    }

    @Test
    void unknownFlagIsAUsageError() throws Exception {
        DroverProcess.Result result = drover(Map.of(), "--wokers", "2", "dev.drover.sample.SampleApp");
        assertRefused(result, "drover: Unknown option", "'--wokers'", "Possible solutions: --workers",
                "Try 'drover --help' for usage.");
    }

    @Test
    void unreadableAndUnparsableFiles() throws Exception {
        assertRefused(drover(Map.of(), "-c", dir.resolve("missing.conf").toString()),
                "config file " + dir.resolve("missing.conf") + " (flag -c/--config): cannot read it");
        Path broken = file("broken.conf", "drover {", "  workers = [1,", "}");
        assertRefused(drover(Map.of(), "-c", broken.toString()), "config file " + broken + ": ");
    }

    @Test
    void checkConfigSaysValidOrNot() throws Exception {
        Path good = file("good.conf", "drover {", "  app = dev.drover.sample.SampleApp", "  workers = 3", "}");
        DroverProcess.Result ok = drover(Map.of(), "--check-config", "-c", good.toString());
        assertEquals(0, ok.exitCode(), ok.output());
        assertTrue(ok.output().contains("configuration OK (3 worker(s) of dev.drover.sample.SampleApp"), ok.output());
        assertFalse(ok.spawnedAnyWorker());
        Path bad = file("bad.conf", "drover {", "  app = dev.drover.sample.SampleApp", "  backlog = -1", "}");
        assertRefused(drover(Map.of(), "--check-config", "-c", bad.toString()),
                "drover.backlog = -1 (" + bad + ":3): out of range");
    }

    @Test
    void precedenceIsFileThenEnvironmentThenFlags() throws Exception {
        Path conf = file("p.conf", "drover {", "  app = dev.drover.sample.SampleApp", "  workers = 5", "}");
        DroverProcess.Result fromEnv = drover(Map.of("DROVER_WORKERS", "4"), "--check-config", "-c", conf.toString());
        assertTrue(fromEnv.output().contains("(4 worker(s)"), fromEnv.output());
        DroverProcess.Result fromFlag = drover(Map.of("DROVER_WORKERS", "4"), "--check-config", "-c", conf.toString(),
                "-w", "6");
        assertTrue(fromFlag.output().contains("(6 worker(s)"), fromFlag.output());
    }

    @Test
    void livePidfileRefusesToStartAndStaleOneIsReplaced() throws Exception {
        Path pidfile = dir.resolve("app.pid");
        long livePid = ProcessHandle.current().pid();
        Files.writeString(pidfile, livePid + "\n");
        DroverProcess.Result refused = drover(Map.of(), "-b", "127.0.0.1:0", "-p", pidfile.toString(),
                "dev.drover.sample.SampleApp");
        assertEquals(2, refused.exitCode(), refused.output());
        assertTrue(refused.output().contains("drover.pidfile = " + pidfile + " (command-line flag -p/--pid): pidfile "
                + pidfile + " holds pid " + livePid + ", which is alive"), refused.output());
        assertFalse(refused.spawnedAnyWorker());
        assertEquals(livePid + "", Files.readString(pidfile).trim(), "someone else's pidfile is left alone");

        Files.writeString(pidfile, "999999999\n"); // no such pid
        List<String> args = new ArrayList<>(List.of("-b", "127.0.0.1:0", "-p", pidfile.toString(),
                "dev.drover.sample.SampleApp"));
        try (DroverProcess drover = DroverProcess.start(args)) {
            drover.awaitServing(1, Duration.ofSeconds(60));
            assertEquals(drover.pid() + "", Files.readString(pidfile).trim());
        }
    }
}
