package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Per-worker cgroups against a fake cgroupfs (these machines do not delegate cgroup v2): the master is pointed at a
 * fake root through DROVER_INTERNAL_CGROUP_ROOT (test-only), so its real worker starts through the cgroup-joining
 * shell and writes its pid to a plain file. A kernel OOM kill is staged as the kernel would leave it: oom_kill 1 in
 * the cgroup's memory.events and a SIGKILL from outside Drover.
 */
@Timeout(120)
class CgroupIT {

    private static final long HARD = 500L << 20;

    @Test
    void aWorkerStartsInItsOwnCgroupAndAKernelOomKillIsReportedAsOne() throws Exception {
        Path dir = DroverProcess.tempDir("drover-cgroup");
        Path own = fakeDelegatedCgroup(dir.resolve("root"));
        Path pidfile = dir.resolve("app.pid");
        Map<String, String> env = Map.of("DROVER_INTERNAL_CGROUP_ROOT", dir.resolve("root").toString(),
                "DROVER_MEMORY_HARD_LIMIT", "500M", "DROVER_LEAK_REPORTS_DIR", dir.resolve("reports").toString());
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "1", "-b", "127.0.0.1:0", "-p",
                pidfile.toString(), "dev.drover.sample.SampleApp"), env)) {
            int port = drover.awaitServing(1, Duration.ofSeconds(60));
            long master = drover.pid();
            Path base = own.resolve("drover-" + master);
            drover.awaitLine("each worker runs in a cgroup of its own under " + base, Duration.ofSeconds(5));
            assertEquals(Long.toString(master), read(base.resolve("master/cgroup.procs")));
            assertEquals("+memory", read(own.resolve("cgroup.subtree_control")));
            long worker = Ctl.servingPids(pidfile).get(0);
            Path cgroup = base.resolve("w1-g1-1");
            assertEquals(Long.toString(worker), read(cgroup.resolve("cgroup.procs")), "the JVM's own pid, joined");
            assertEquals(Long.toString(HARD), read(cgroup.resolve("memory.high")));
            assertEquals(Long.toString(HARD + HARD / 10), read(cgroup.resolve("memory.max")));
            assertEquals("1", read(cgroup.resolve("memory.oom.group")));
            assertEquals(200, Http.get(port, "/").status());

            int mark = drover.lineCount();
            Files.writeString(cgroup.resolve("memory.events"), "low 0\nhigh 3\nmax 1\noom 1\noom_kill 1\n");
            ProcessHandle.of(worker).orElseThrow().destroyForcibly(); // SIGKILL, as the kernel's OOM killer sends
            drover.awaitLine("worker 1 \\(pid " + worker + ", gen 1\\) was killed by the kernel's OOM killer after "
                    + "[0-9.]+s as serving, \\d+ request\\(s\\) served: its cgroup " + cgroup + " went over memory.max "
                    + "\\(550 MiB\\): memory.events oom_kill 0 -> 1; recycled: memory-oom-kill", mark,
                    Duration.ofSeconds(20));
            drover.awaitLine("leak report (\\S+) for worker 1 \\(pid " + worker + ", gen 1\\)", mark,
                    Duration.ofSeconds(20));
            drover.awaitLine("worker 1 \\(pid (?!" + worker + ")\\d+, gen 1\\) ready in", mark, Duration.ofSeconds(30));
            Config status = Ctl.status(pidfile);
            assertEquals(1, status.getLong("recycles.memory-oom-kill"), status.toString());
            assertTrue(!drover.output().contains("(pid " + worker + ", gen 1) died unexpectedly"), drover.output());
            assertTrue(Files.notExists(cgroup), "the dead worker's cgroup is removed");
            long next = Ctl.servingPids(pidfile).get(0);
            assertEquals(Long.toString(next), read(base.resolve("w1-g1-2/cgroup.procs")));

            ProcessHandle.of(master).orElseThrow().destroy();
            drover.awaitLine("master " + master + " stopped", Duration.ofSeconds(30));
            assertTrue(Files.notExists(base), "drover-PID is removed at the master's exit");
            assertEquals(Long.toString(master), read(own.resolve("cgroup.procs")), "the master moved back");
        }
    }

    /** A pure cgroup v2 machine whose cgroup /drover.service is delegated (memory offered) and holds no process. */
    private static Path fakeDelegatedCgroup(Path root) throws Exception {
        Path own = root.resolve("sys/fs/cgroup/drover.service");
        Files.createDirectories(own);
        Files.createDirectories(root.resolve("proc/self"));
        Files.writeString(root.resolve("proc/self/cgroup"), "0::/drover.service\n");
        Files.writeString(root.resolve("proc/self/mountinfo"),
                "25 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev - cgroup2 cgroup2 rw,nsdelegate\n");
        Files.writeString(own.resolve("cgroup.controllers"), "cpu io memory pids\n");
        Files.writeString(own.resolve("cgroup.subtree_control"), "\n");
        Files.writeString(own.resolve("cgroup.procs"), "");
        return own;
    }

    private static String read(Path file) throws Exception {
        return Files.readString(file).strip();
    }
}
