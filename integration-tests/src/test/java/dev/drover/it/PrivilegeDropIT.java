package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * drover.user and drover.group, as root with a system user and group made for the test (and removed after it, even
 * when it fails): the workers run as them and cannot reach the master's private files, the master stays root,
 * serving, recycling and snapshots (written by the worker into its directory, read by the master) work, and a user
 * that does not exist is a configuration error.
 */
@Timeout(120)
class PrivilegeDropIT {

    private static final String NAME = "drvit" + UUID.randomUUID().toString().substring(0, 8);
    private static boolean created;

    @BeforeAll
    static void createUser() throws Exception {
        assumeTrue(ProcessHandle.current().info().user().orElse("").equals("root"),
                "PrivilegeDropIT needs root (it creates a user and starts the master as root); skipped");
        assertEquals(0, run("groupadd", "-r", NAME).exitCode);
        created = true;
        assertEquals(0, run("useradd", "-r", "-g", NAME, "-M", "-s", "/usr/sbin/nologin", NAME).exitCode);
    }

    @AfterAll
    static void removeUser() throws Exception {
        if (created) {
            run("userdel", NAME);
            run("groupdel", NAME);
        }
    }

    private record Ran(int exitCode, String output) {
    }

    private static Ran run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
        return new Ran(p.exitValue(), output);
    }

    /** {@code command} as the test's user, as a compromised worker would run it. */
    private static Ran asTheUser(String... command) throws Exception {
        List<String> full = new java.util.ArrayList<>(List.of("setpriv", "--reuid=" + NAME, "--regid=" + NAME,
                "--init-groups", "--"));
        full.addAll(List.of(command));
        return run(full.toArray(String[]::new));
    }

    /** Field {@code key} of /proc/PID/status: "Uid", "Gid", "Groups". */
    private static String status(long pid, String key) throws Exception {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                .filter(l -> l.startsWith(key + ":")).findFirst().orElseThrow().substring(key.length() + 1).trim();
    }

    private static String id(String option) throws Exception {
        return run("id", option, NAME).output.trim();
    }

    /** A directory the user can read (the app's config file is read by the workers): 0755, the config 0644. */
    private static Path config(Path dir) throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path file = dir.resolve("drop.conf");
        Files.writeString(file, String.join("\n", "drover {", "  app = dev.drover.sample.SampleApp", "  workers = 2",
                "  bind = [\"127.0.0.1:0\"]", "  pidfile = \"" + dir.resolve("app.pid") + "\"", "  user = " + NAME,
                "  group = " + NAME, "}", ""));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        return file;
    }

    @Test
    void workersRunAsTheUserReachNothingOfTheMastersAndServeThroughARecycle() throws Exception {
        Path dir = DroverProcess.tempDir("drover-privdrop");
        Path pidfile = dir.resolve("app.pid");
        try (DroverProcess drover = DroverProcess.start(List.of("-c", config(dir).toString()))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            List<Long> workers = Ctl.servingPids(pidfile);
            assertEquals(2, workers.size());
            for (long pid : workers) {
                assertEquals(String.join("\t", List.of(id("-u"), id("-u"), id("-u"), id("-u"))), status(pid, "Uid"));
                assertEquals(String.join("\t", List.of(id("-g"), id("-g"), id("-g"), id("-g"))), status(pid, "Gid"));
                assertEquals(id("-G"), status(pid, "Groups"));
                assertEquals("1", status(pid, "NoNewPrivs"));
                assertEquals("0000000000000000", status(pid, "CapEff"));
            }
            assertEquals("0\t0\t0\t0", status(drover.pid(), "Uid"));

            // The control socket's directory (0700, root's) and the runtime directory holding the workers' own.
            Ran control = asTheUser("ls", pidfile + ".ctl");
            assertNotEquals(0, control.exitCode, control.output);
            assertTrue(control.output.contains("Permission denied"), control.output);
            Path workersDir = Files.readSymbolicLink(Path.of("/proc", workers.get(0).toString(), "fd", "3"));
            Ran runtime = asTheUser("ls", workersDir.getParent().toString());
            assertTrue(runtime.output.contains("Permission denied"), runtime.output);

            DroverProcess.Result snapshot = Ctl.run(pidfile, "snapshot", "1");
            assertEquals(0, snapshot.exitCode(), snapshot.output());

            long old = Ctl.status(pidfile).getConfigList("workers").stream().filter(w -> w.getInt("id") == 1)
                    .findFirst().orElseThrow().getLong("pid");
            try (Load load = Load.start(port, "/", 2, 1)) {
                DroverProcess.Result recycle = Ctl.run(pidfile, "recycle", "1");
                assertEquals(0, recycle.exitCode(), recycle.output());
                DroverProcess.awaitCondition("worker 1 replaced", Duration.ofSeconds(60),
                        () -> !DroverProcess.alive(old));
                DroverProcess.awaitCondition("two workers serving", Duration.ofSeconds(60), () -> servingCount(pidfile) == 2);
                load.close();
                assertEquals(0, load.failed.get(), load.summary());
                assertTrue(load.ok.get() > 0, load.summary());
            }
            for (long pid : Ctl.servingPids(pidfile)) {
                assertTrue(status(pid, "Uid").startsWith(id("-u") + "\t"), "a replacement runs as the user too");
            }
        }
    }

    private static int servingCount(Path pidfile) {
        try {
            return Ctl.servingPids(pidfile).size();
        } catch (Exception e) {
            return -1;
        }
    }

    @Test
    void aUserThatDoesNotExistIsAConfigurationError() throws Exception {
        DroverProcess.Result result = DroverProcess.run(List.of("-b", "127.0.0.1:0", "-u", "no-such-user-" + NAME,
                "dev.drover.sample.SampleApp"), Map.of(), Duration.ofSeconds(30));
        assertEquals(2, result.exitCode(), result.output());
        assertTrue(result.output().contains("drover.user = \"no-such-user-" + NAME + "\" (command-line flag -u/--user): no such user"),
                result.output());
        assertTrue(!result.spawnedAnyWorker(), result.output());
    }
}
