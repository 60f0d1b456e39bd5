package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hostile neighbour on the same host (the user nobody, uid 65534) plants directories and links where the master
 * keeps its private state, while the master runs as root: the master refuses to start, or goes around them, and
 * never touches a file that is not its own. The leftovers of a master killed with SIGKILL are cleaned up or reused.
 */
@Timeout(120)
class FileSafetyIT {

    private static final String APP = "dev.drover.sample.SampleApp";
    private static final int NOBODY = 65534;
    /** One worker, no AppCDS training run: these tests are about files, and the machine is shared. */
    private static final Map<String, String> QUIET = Map.of("DROVER_CDS_ENABLED", "false");

    @TempDir
    Path dir;

    private Path victim;

    @BeforeEach
    void rootWithANeighbour() throws Exception {
        assumeTrue(Files.getAttribute(dir, "unix:uid").equals(0), "runs as root, with nobody as the neighbour");
        // The neighbour must be able to reach the shared directories below, as it can reach /tmp.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        victim = Files.writeString(dir.resolve("victim"), "a root-owned file\n");
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-r--r--"));
    }

    @Test
    void anotherUsersControlDirectoryIsRefusedAndNothingStarts() throws Exception {
        Path shared = directory("shared", 01777); // like /tmp
        Path pidfile = shared.resolve("app.pid");
        asNobody("mkdir", "-m", "0777", pidfile + ".ctl");
        asNobody("ln", "-s", victim.toString(), pidfile + ".ctl/control.sock"); // the impostor's socket would go here
        DroverProcess.Result result = DroverProcess.run(List.of("-b", "127.0.0.1:0", "-p", pidfile.toString(), APP),
                QUIET, Duration.ofSeconds(30));
        assertEquals(2, result.exitCode(), result.output());
        assertFalse(result.spawnedAnyWorker(), result.output());
        assertTrue(result.output().contains("drover.pidfile = " + pidfile + " (command-line flag -p/--pid): the control "
                + "socket's directory " + pidfile + ".ctl is owned by uid 65534, mode 0777 (expected: a directory of "
                + "uid 0 (the master's user) with mode 0700; remove it, or choose another path)"), result.output());
        assertFalse(Files.exists(pidfile), "no pidfile written");
        assertVictimUntouched();
    }

    @Test
    void socketsGetTheirModeAtBindAndNeverFollowAPlantedLink() throws Exception {
        Path pidfile = directory("run", 0755).resolve("app.pid");
        Path controlDir = directory("run/app.pid.ctl", 0700); // left by an earlier master, with a link in it
        Files.createSymbolicLink(controlDir.resolve("control.sock"), victim);
        Files.writeString(pidfile, "999999999\n"); // a dead master's
        Path privateSocket = directory("private", 0755).resolve("svc.sock");
        Path open = directory("open", 0777); // no sticky bit: the neighbour can replace anything in it
        Path exposed = open.resolve("svc.sock");
        Path stop = dir.resolve("stop-the-neighbour");
        Process neighbour = swapSocketForLink(exposed, stop);
        try (DroverProcess drover = DroverProcess.start(List.of("-b", "127.0.0.1:0", "-b", "unix:" + privateSocket,
                "-b", "unix:" + exposed, "-p", pidfile.toString(), APP), QUIET)) {
            drover.awaitServing(1, Duration.ofSeconds(60));
            assertEquals(drover.pid() + "", Files.readString(pidfile).trim(), "a dead pid's pidfile is overwritten");
            assertEquals(1, Ctl.servingPids(pidfile).size(), "the control socket answers");
            assertEquals("drwx------", type(controlDir) + mode(controlDir));
            assertEquals("srw-------", type(controlDir.resolve("control.sock")) + mode(controlDir.resolve("control.sock")));
            assertEquals("srw-rw----", type(privateSocket) + mode(privateSocket), "drover.unix-socket-mode, 0660");
            DroverProcess.awaitCondition("the neighbour put its link in place of " + exposed, Duration.ofSeconds(10),
                    () -> Files.isSymbolicLink(exposed));
            assertVictimUntouched();
        } finally {
            Files.writeString(stop, "");
            neighbour.waitFor(10, TimeUnit.SECONDS);
            neighbour.destroyForcibly();
        }
        assertVictimUntouched();
    }

    @Test
    void whatAKilledMasterLeftIsCleanedUpOrReused() throws Exception {
        Path xdg = directory("xdg", 0700);
        Map<String, String> env = Map.of("DROVER_CDS_ENABLED", "false", "XDG_RUNTIME_DIR", xdg.toString());
        Path pidfile = dir.resolve("app.pid");
        List<String> args = List.of("-b", "127.0.0.1:0", "-p", pidfile.toString(), APP);
        Path killedDir;
        long killedPid;
        try (DroverProcess first = DroverProcess.start(args, env)) {
            first.awaitServing(1, Duration.ofSeconds(60));
            killedPid = first.pid();
            killedDir = runtimeDirOf(xdg, killedPid);
            ProcessHandle.of(killedPid).orElseThrow().destroyForcibly();
            first.awaitExit(Duration.ofSeconds(10));
        }
        assertTrue(Files.isDirectory(killedDir) && Files.exists(pidfile) && Files.exists(Path.of(pidfile + ".ctl",
                "control.sock")), "SIGKILL leaves the runtime directory, the pidfile and the control socket");
        // Named as a master names its runtime directory: pid, boot, start time in ticks since boot (/proc/PID/stat).
        String boot = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).substring(0, 8);
        String self = Files.readString(Path.of("/proc/self/stat"));
        Path alive = Files.createDirectory(xdg.resolve("drover/master-" + ProcessHandle.current().pid() + "-" + boot
                + "-" + self.substring(self.lastIndexOf(')') + 2).split(" ")[19]));
        Path notOurs = Files.createDirectory(xdg.resolve("drover/master-999999999-" + boot + "-1"));
        Files.setAttribute(notOurs, "unix:uid", NOBODY);
        try (DroverProcess next = DroverProcess.start(args, env)) {
            next.awaitServing(1, Duration.ofSeconds(60));
            next.awaitLine(Pattern.quote("removed the runtime directory " + killedDir + " of a master that is gone (pid "
                    + killedPid + " is not running)"), Duration.ofSeconds(1));
            assertFalse(Files.exists(killedDir));
            assertTrue(Files.isDirectory(alive), "a live pid's directory is left alone");
            assertTrue(Files.isDirectory(notOurs), "another user's directory is left alone");
            assertEquals(1, next.countLines("removed the runtime directory"), next.output());
            assertEquals(next.pid() + "", Files.readString(pidfile).trim());
            assertEquals(1, Ctl.servingPids(pidfile).size(), "the stale control socket was replaced");
        }
    }

    @Test
    void anotherUsersReportsOrArchivesDirectoryIsRefused() throws Exception {
        Path shared = directory("shared", 01777);
        asNobody("mkdir", "-m", "0777", shared.resolve("leaks").toString(), shared.resolve("cds").toString());
        assertRefused(List.of(), Map.of("DROVER_LEAK_REPORTS_DIR", shared.resolve("leaks").toString()),
                "drover.leak-reports.dir = " + shared.resolve("leaks") + " (environment variable DROVER_LEAK_REPORTS_DIR): "
                        + "the leak reports directory " + shared.resolve("leaks") + " is owned by uid 65534, mode 0777");
        assertRefused(List.of(), Map.of("DROVER_CDS_CACHE_DIR", shared.resolve("cds").toString()),
                "drover.cds.cache-dir = " + shared.resolve("cds") + " (environment variable DROVER_CDS_CACHE_DIR): "
                        + "the AppCDS archives' directory " + shared.resolve("cds") + " is owned by uid 65534, mode 0777");
    }

    @Test
    void appCdsArchivesAre0600InA0700Directory() throws Exception {
        Path cache = dir.resolve("cache/drover/cds");
        try (DroverProcess drover = DroverProcess.start(List.of("-b", "127.0.0.1:0", APP),
                Map.of("DROVER_CDS_CACHE_DIR", cache.toString()))) {
            drover.awaitServing(1, Duration.ofSeconds(60));
            Path archive = Path.of(drover.awaitLine("AppCDS archive (\\S+) is ready", Duration.ofSeconds(60)).group(1));
            assertEquals(cache, archive.getParent());
            assertEquals("drwx------", type(cache) + mode(cache));
            assertEquals("-rw-------", type(archive) + mode(archive), "the training JVM wrote it 0444");
        }
    }

    @Test
    void unusablePidfilesAreRefusedWithTheReason() throws Exception {
        assertRefused(Path.of("/proc/x.pid"), "drover.pidfile = /proc/x.pid (command-line flag -p/--pid): cannot "
                + "write a file in /proc: No such file or directory");
        Path open = directory("open", 0777);
        assertRefused(open.resolve("app.pid"), "drover.pidfile = " + open.resolve("app.pid") + " (command-line flag "
                + "-p/--pid): " + open + " (the directory of app.pid) has mode 0777: group or others can write to it "
                + "and it has no sticky bit, so another user could replace app.pid");
        Path shared = directory("shared", 01777);
        asNobody("ln", "-s", victim.toString(), shared.resolve("app.pid").toString());
        assertRefused(shared.resolve("app.pid"), shared.resolve("app.pid") + " is a symbolic link (to " + victim
                + "), which Drover never creates (expected: a regular file or no file; remove the link, or choose "
                + "another path)");
        assertVictimUntouched();
    }

    private void assertRefused(Path pidfile, String message) throws Exception {
        assertRefused(List.of("-p", pidfile.toString()), QUIET, message);
    }

    private void assertRefused(List<String> flags, Map<String, String> env, String message) throws Exception {
        List<String> args = new ArrayList<>(List.of("-b", "127.0.0.1:0"));
        args.addAll(flags);
        args.add(APP);
        DroverProcess.Result result = DroverProcess.run(args, env, Duration.ofSeconds(30));
        assertEquals(2, result.exitCode(), result.output());
        assertFalse(result.spawnedAnyWorker(), result.output());
        assertTrue(result.output().contains(message), "expected \"" + message + "\" in:\n" + result.output());
    }

    /**
     * The neighbour waits for the socket to appear in a directory it can write to and replaces it at once with a
     * link to the victim: a master that chmod-ed the socket after bind would chmod the victim. Perl, because it is
     * on every Debian-based image and its loop is fast enough to land between a bind and a chmod.
     */
    private Process swapSocketForLink(Path socket, Path stop) throws Exception {
        String script = "my ($path, $victim, $stop) = @ARGV; my $deadline = time + 60;"
                + " until (-e $stop || time > $deadline) { if (-S $path) { symlink($victim, \"$path.new\");"
                + " rename(\"$path.new\", $path); exit 0; } }";
        List<String> command = new ArrayList<>(asNobodyPrefix());
        command.addAll(List.of("perl", "-e", script, socket.toString(), victim.toString(), stop.toString()));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    private void assertVictimUntouched() throws Exception {
        assertEquals("a root-owned file\n", Files.readString(victim));
        assertEquals("rw-r--r--", mode(victim));
        assertEquals(0, Files.getAttribute(victim, "unix:uid"));
    }

    private Path directory(String name, int mode) throws Exception {
        Path d = Files.createDirectories(dir.resolve(name));
        Files.setAttribute(d, "unix:mode", mode);
        return d;
    }

    private static Path runtimeDirOf(Path xdg, long pid) throws Exception {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(xdg.resolve("drover"), "master-" + pid + "-*")) {
            return dirs.iterator().next();
        }
    }

    private static String mode(Path path) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
    }

    private static char type(Path path) throws Exception {
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return switch (mode & 0170000) {
            case 0140000 -> 's';
            case 0040000 -> 'd';
            case 0120000 -> 'l';
            default -> '-';
        };
    }

    private static List<String> asNobodyPrefix() {
        return List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups");
    }

    private static void asNobody(String... command) throws Exception {
        List<String> full = new ArrayList<>(asNobodyPrefix());
        full.addAll(List.of(command));
        Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS), "as nobody: " + full);
        assertEquals(0, p.exitValue(), "as nobody: " + full + ": " + new String(p.getInputStream().readAllBytes()));
    }
}
