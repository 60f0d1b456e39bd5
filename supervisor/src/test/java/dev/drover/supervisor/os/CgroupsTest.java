package dev.drover.supervisor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-worker cgroups against a fake cgroupfs in a temp directory: set-up, the files written, OOM kills, take-down. */
class CgroupsTest {

    private static final long PID = 4242;
    private static final long MIB = 1L << 20;

    @TempDir
    Path root;

    /** A pure v2 machine whose cgroup /drover.service (the master alone in it) is offered {@code controllers}. */
    private Path delegated(String controllers) throws IOException {
        write("proc/self/cgroup", "0::/drover.service\n");
        write("proc/self/mountinfo", CgroupLayoutTest.V2_MOUNTINFO);
        write("sys/fs/cgroup/drover.service/cgroup.controllers", controllers + "\n");
        write("sys/fs/cgroup/drover.service/cgroup.procs", PID + "\n");
        write("sys/fs/cgroup/drover.service/cgroup.subtree_control", "\n");
        return root.resolve("sys/fs/cgroup/drover.service");
    }

    private void write(String file, String text) throws IOException {
        Path path = root.resolve(file);
        Files.createDirectories(path.getParent());
        Files.writeString(path, text);
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file).strip();
    }

    @Test
    void delegatedV2SetsUpTheSubtreeAndEachWorkersCeiling() throws Exception {
        Path own = delegated("cpu memory pids");
        Cgroups.Setup setup = Cgroups.setUp(CgroupLayout.read(root), PID);
        assertEquals("", setup.why());
        Path base = own.resolve("drover-4242");
        assertEquals(base, setup.cgroups().orElseThrow().base());
        assertEquals("4242", read(base.resolve("master/cgroup.procs")));
        assertEquals("+memory", read(own.resolve("cgroup.subtree_control")));
        assertEquals("+memory", read(base.resolve("cgroup.subtree_control")));

        WorkerCgroup first = setup.cgroups().get().create(1, 2, 600 * MIB);
        WorkerCgroup again = setup.cgroups().get().create(1, 2, 600 * MIB);
        assertEquals(base.resolve("w1-g2-1"), first.dir());
        assertEquals(base.resolve("w1-g2-2"), again.dir(), "a slot's next worker of the same generation");
        assertEquals(Long.toString(600 * MIB), read(first.dir().resolve("memory.high")));
        assertEquals(Long.toString(660 * MIB), read(first.dir().resolve("memory.max")));
        assertEquals("1", read(first.dir().resolve("memory.oom.group")));
        assertEquals(first.dir().resolve("cgroup.procs"), first.procs());

        setup.cgroups().get().close();
        assertFalse(Files.exists(base), "drover-PID is removed at the master's exit, workers' cgroups with it");
        assertEquals("4242", read(own.resolve("cgroup.procs")), "the master moves back into its own cgroup");
        assertEquals("-memory", read(own.resolve("cgroup.subtree_control")));
    }

    @Test
    void anOomKillCountIsTheKernelsKillAndAnyOtherExitIsNot() throws Exception {
        delegated("memory");
        Cgroups cgroups = Cgroups.setUp(CgroupLayout.read(root), PID).cgroups().orElseThrow();
        WorkerCgroup cgroup = cgroups.create(3, 1, 300 * MIB);
        Files.writeString(cgroup.dir().resolve("memory.events"), "low 0\nhigh 12\nmax 3\noom 1\noom_kill 0\n");
        assertEquals(Optional.empty(), cgroup.oomKill(), "oom but no kill: no verdict");
        Files.writeString(cgroup.dir().resolve("memory.events"), "low 0\nhigh 40\nmax 9\noom 2\noom_kill 1\n");
        assertEquals(Optional.of("its cgroup " + cgroup.dir() + " went over memory.max (330 MiB): memory.events "
                + "oom_kill 0 -> 1"), cgroup.oomKill());
        assertTrue(cgroup.remove());
        assertFalse(Files.exists(cgroup.dir()));

        // The counter as the kernel writes it, absent lines as 0; a fresh cgroup has no kill to report.
        WorkerCgroup next = cgroups.create(3, 1, 300 * MIB);
        assertEquals(0, WorkerCgroup.eventCount("oom_kill 0\n", "oom_kill"));
        assertEquals(2, WorkerCgroup.eventCount("oom 2\noom_kill 2\n", "oom_kill"));
        assertEquals(0, WorkerCgroup.eventCount("oom 2\n", "oom_kill"));
        assertEquals(Optional.empty(), next.oomKill());
    }

    @Test
    void hybridAsOnThisMachineIsRefusedWithTheMemoryLine() throws Exception {
        write("proc/self/cgroup", CgroupLayoutTest.HYBRID_CGROUP);
        write("proc/self/mountinfo", CgroupLayoutTest.HYBRID_MOUNTINFO);
        write("sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
        Cgroups.Setup setup = Cgroups.setUp(CgroupLayout.read(root), PID);
        assertEquals(Optional.empty(), setup.cgroups());
        assertEquals("cgroup v2 not delegated (/proc/self/cgroup: 4:memory:/process_api/16776d6ba0729abf): the memory "
                + "controller is on cgroup v1", setup.why());
        assertFalse(Files.exists(root.resolve("sys/fs/cgroup/unified/drover-4242")), "nothing is touched");
    }

    @Test
    void v2WithoutTheMemoryControllerOrWithOtherProcessesIsRefused() throws Exception {
        Path own = delegated("cpu pids");
        Cgroups.Setup setup = Cgroups.setUp(CgroupLayout.read(root), PID);
        assertEquals("cgroup v2 not delegated (/proc/self/cgroup: 0::/drover.service): " + own.resolve(
                "cgroup.controllers") + " offers \"cpu pids\", not memory", setup.why());

        Files.writeString(own.resolve("cgroup.controllers"), "memory\n");
        Files.writeString(own.resolve("cgroup.procs"), "17\n" + PID + "\n");
        setup = Cgroups.setUp(CgroupLayout.read(root), PID);
        assertEquals(own + " holds other processes besides the master (pids 17): a cgroup with processes cannot give "
                + "the memory controller to its children", setup.why());
        assertFalse(Files.exists(own.resolve("drover-4242")));
    }

    @Test
    void anUnwritableSubtreeControlGivesTheOneReasonAndUndoesTheMove() throws Exception {
        Path own = delegated("memory");
        // A directory in the file's place: every write to it fails, even as root.
        Files.delete(own.resolve("cgroup.subtree_control"));
        Files.createDirectory(own.resolve("cgroup.subtree_control"));
        Cgroups.Setup setup = Cgroups.setUp(CgroupLayout.read(root), PID);
        assertEquals(Optional.empty(), setup.cgroups());
        assertTrue(setup.why().startsWith("cannot enable the memory controller below " + own + " (+memory > "
                + own.resolve("cgroup.subtree_control") + "): "), setup.why());
        assertFalse(Files.exists(own.resolve("drover-4242")), "set-up is undone");
        assertEquals("4242", read(own.resolve("cgroup.procs")), "the master is back in its own cgroup");
    }
}
