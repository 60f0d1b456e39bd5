package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Truthful operations: what the master says and its exit codes match what happened. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class OpsIT {

    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    @TempDir
    Path dir;

    @Test
    void aLogFileThatCannotBeWrittenIsRefusedBeforeAnythingStarts() throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("plain-file"), "");
        Path[] unusable = {dir.resolve("missing-dir/drover.log"), notADirectory.resolve("drover.log")};
        String[] reasons = {"No such file or directory", "Not a directory"};
        for (int i = 0; i < unusable.length; i++) {
            DroverProcess.Result result = DroverProcess.run(List.of("-b", "127.0.0.1:0", "--log-file",
                    unusable[i].toString(), "dev.drover.sample.SampleApp"), Map.of(), Duration.ofSeconds(30));
            assertEquals(2, result.exitCode(), result.output());
            assertEquals("drover: drover.log-file = " + unusable[i] + " (command-line flag --log-file): cannot open it "
                    + "for appending: " + reasons[i] + " (expected: a file this user can append to, in a directory "
                    + "that exists)", result.output().trim());
            assertFalse(result.spawnedAnyWorker());
        }
        assertFalse(Files.exists(dir.resolve("missing-dir")), "no directory was created on the user's behalf");
    }

    @Test
    void aLogFileThisUserMayNotWriteIsRefused() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")) && Files.isExecutable(SETPRIV),
                "needs root and setpriv to run the master as a second user");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path rootsOnly = Files.createDirectory(dir.resolve("var-log"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        Path log = rootsOnly.resolve("drover.log");
        // The user "nobody" starts the launcher, as a service account would, with a log file in root's directory.
        ProcessBuilder asNobody = new ProcessBuilder(SETPRIV.toString(), "--reuid=nobody", "--regid=nogroup",
                "--clear-groups", "env", "HOME=" + dir, DroverProcess.LAUNCHER.toString(), "-b", "127.0.0.1:0",
                "--log-file", log.toString(), "dev.drover.sample.SampleApp");
        try (DroverProcess drover = DroverProcess.start(asNobody)) {
            assertEquals(2, drover.awaitExit(Duration.ofSeconds(30)), drover.output());
            assertEquals("drover: drover.log-file = " + log + " (command-line flag --log-file): cannot open it for "
                    + "appending: Permission denied (expected: a file this user can append to, in a directory that "
                    + "exists)", drover.output().trim());
            assertFalse(drover.spawnedAnyWorker());
        }
        assertFalse(Files.exists(log));
    }

    @Test
    void aRefusedReopenKeepsLoggingIntoTheFileThatWasOpen() throws Exception {
        Path logs = Files.createDirectory(dir.resolve("logs"));
        Path log = logs.resolve("drover.log");
        Path pidfile = dir.resolve("app.pid");
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "1", "-b", "127.0.0.1:0", "-p", pidfile.toString(),
                "--log-file", log.toString(), "dev.drover.sample.SampleApp"))) {
            DroverProcess.awaitCondition("the worker ready, in the log file", Duration.ofSeconds(60),
                    () -> read(log).contains(" ready in "));
            Path moved = Files.move(logs, dir.resolve("logs.old")).resolve("drover.log");
            Files.writeString(logs, "a file where the log directory was");

            DroverProcess.Result refused = Ctl.run(pidfile, "reopen-logs");
            assertEquals(2, refused.exitCode(), refused.output());
            assertTrue(refused.output().contains("drover ctl: cannot reopen the log file: " + log + ": Not a directory; "
                    + "logging goes on into the file that was open"), refused.output());
            ReloadIT.signal(drover, "USR1");
            DroverProcess.awaitCondition("the refusals, logged into the file that was open", Duration.ofSeconds(10),
                    () -> read(moved).contains("ERROR [Control] SIGUSR1: cannot reopen the log file: " + log
                            + ": Not a directory"));
            assertTrue(read(moved).contains("ERROR [Control] drover ctl reopen-logs: cannot reopen"), read(moved));

            Files.delete(logs);
            Files.createDirectory(logs);
            DroverProcess.Result reopened = Ctl.run(pidfile, "reopen-logs");
            assertEquals(0, reopened.exitCode(), reopened.output());
            ReloadIT.signal(drover, "TERM");
            assertEquals(0, drover.awaitExit(Duration.ofSeconds(30)));
            assertTrue(read(log).contains("stopped after draining"), "logging goes on in the new file: " + read(log));
        }
    }

    @Test
    void intIsAQuickStopNotACrash() throws Exception {
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "2", "-b", "127.0.0.1:0",
                "dev.drover.sample.SampleApp"))) {
            drover.awaitServing(2, Duration.ofSeconds(60));
            ReloadIT.signal(drover, "INT");
            assertEquals(0, drover.awaitExit(Duration.ofSeconds(10)), drover.output());
            assertEquals(2, drover.countLines("INFO  \\[Arbiter\\] worker \\d \\(pid \\d+, gen 1\\) stopped \\(quick stop; "
                    + "exited with code 0\\)"), drover.output());
            assertEquals(0, drover.countLines("died unexpectedly|ERROR|WARN  \\[Arbiter\\]"), drover.output());
        }
    }

    @Test
    void aWorkersErrorIsAnErrorInTheMastersLog() throws Exception {
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "1", "-b", "127.0.0.1:0",
                "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(1, Duration.ofSeconds(60));
            assertEquals(500, Http.get(port, "/fail").status());
            drover.awaitLine(" ERROR \\[worker\\] worker 1 \\(pid \\d+, gen 1\\) \\| ERROR ", Duration.ofSeconds(10));
            // Its stack trace keeps the level; what the app prints is INFO.
            drover.awaitLine(" ERROR \\[worker\\] .*\\| java.lang.IllegalStateException: /fail: the sample app fails on "
                    + "purpose", Duration.ofSeconds(10));
            drover.awaitLine(" ERROR \\[worker\\] .*\\| \\tat dev.drover.sample.SampleHandler", Duration.ofSeconds(10));
            assertEquals(200, Http.get(port, "/print?lines=1").status());
            drover.awaitLine(" INFO  \\[worker\\] .*\\| print 1 of 1 from worker 1", Duration.ofSeconds(10));
        }
    }

    @Test
    void ctlReloadAnswersWithTheOutcome() throws Exception {
        Path pidfile = dir.resolve("app.pid");
        Path conf = dir.resolve("app.conf");
        String config = "drover { app = dev.drover.sample.SampleApp, bind = [\"127.0.0.1:0\"], workers = 2, "
                + "pidfile = \"" + pidfile + "\" }\n";
        Files.writeString(conf, config);
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            DroverProcess.Result good = Ctl.run(pidfile, "reload");
            assertEquals(0, good.exitCode(), good.output());
            assertEquals("reload to generation 2 complete: 2 worker(s) serving", good.output().trim());
            assertTrue(Ctl.status(pidfile).getConfigList("workers").stream()
                    .allMatch(w -> w.getInt("generation") == 2 && w.getString("state").equals("serving")));

            Files.writeString(conf, config + "sample { fail-on-start = true }\n");
            DroverProcess.Result broken = Ctl.run(pidfile, "reload");
            assertEquals(2, broken.exitCode(), broken.output());
            assertTrue(Pattern.compile("drover ctl: reload to generation 3 abandoned: its canary worker \\d+ \\(pid \\d+, "
                    + "gen 3\\) could not boot \\(exited with code 3\\); generation 2 keeps serving, nothing changed")
                    .matcher(broken.output()).find(), broken.output());
            assertTrue(broken.output().contains("sample.fail-on-start = true: refusing to start"), broken.output());
            assertEquals(200, Http.get(port, "/").status());
        }
    }

    @Test
    void versionIsTheBuildsVersion() throws Exception {
        Matcher pom = Pattern.compile("<artifactId>drover-parent</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(Files.readString(DroverProcess.HOME.resolve("pom.xml")));
        assertTrue(pom.find());
        DroverProcess.Result version = DroverProcess.run(List.of("--version"), Map.of(), Duration.ofSeconds(30));
        assertEquals(0, version.exitCode());
        assertEquals("drover " + pom.group(1), version.output().lines().findFirst().orElse(""), version.output());
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }
}
