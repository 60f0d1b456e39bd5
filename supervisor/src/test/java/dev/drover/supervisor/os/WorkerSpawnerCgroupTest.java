package dev.drover.supervisor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The shell that starts a worker inside its cgroup: same pid after exec, its pid in cgroup.procs, fd 0 kept. */
@Timeout(30)
class WorkerSpawnerCgroupTest {

    @TempDir
    Path dir;

    @Test
    void theCommandRunsUnderTheShellsPidWhichJoinedTheCgroupAndKeepsItsStdin() throws Exception {
        Path procs = dir.resolve("cgroup.procs");
        Path stdin = Files.writeString(dir.resolve("stdin"), "the listener stands here\n");
        List<String> command = WorkerSpawner.joiningCgroup(procs, List.of("/bin/sh", "-c", "echo $$; cat", "x"));
        Process p = new ProcessBuilder(command).redirectInput(stdin.toFile()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertEquals(p.pid() + "\nthe listener stands here\n", out, "exec keeps the pid the JDK started");
        assertEquals(Long.toString(p.pid()), Files.readString(procs).strip());
    }

    @Test
    void aCgroupThatCannotBeJoinedStartsNothing() throws Exception {
        Path procs = dir.resolve("missing/cgroup.procs");
        Path ran = dir.resolve("ran");
        Process p = new ProcessBuilder(WorkerSpawner.joiningCgroup(procs, List.of("/usr/bin/touch", ran.toString())))
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.exitValue() != 0 && out.contains(procs.toString()), p.exitValue() + ": " + out);
        assertTrue(Files.notExists(ran));
    }

    @Test
    void theCgroupShellOpensTheWorkerDirectoryThenSetprivExecsTheCommand() {
        Credentials user = new Credentials("www", 33, 34, new long[] {34, 100}, "/var/www");
        List<String> command = WorkerSpawner.wrapped(java.util.Optional.of(Path.of("/cg/procs")),
                java.util.Optional.of(Path.of("/run/d/workers")), java.util.Optional.of(user), List.of("java", "-version"));
        assertEquals(List.of("/bin/sh", "-c", "echo $$ > \"$1\" && shift && exec 3< \"$1\" && shift && exec \"$@\"",
                "sh", "/cg/procs", "/run/d/workers", "/usr/bin/setpriv", "--reuid=33", "--regid=34", "--groups=34,100",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--", "java", "-version"), command);
        assertEquals(List.of("java"), WorkerSpawner.wrapped(java.util.Optional.empty(), java.util.Optional.empty(),
                java.util.Optional.empty(), List.of("java")));
    }
}
