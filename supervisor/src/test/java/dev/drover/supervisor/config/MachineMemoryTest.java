package dev.drover.supervisor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The memory figures against a fake root: proc/meminfo, proc/self/cgroup, a mountinfo that mounts cgroup v1's memory
 * hierarchy at /cgroup/memory and cgroup v2 at /cgroup, and the files under them; cgroup v2 and v1.
 */
class MachineMemoryTest {

    private static final long MIB = 1L << 20;

    @TempDir
    Path dir;

    static final String MOUNTINFO = "30 23 0:26 / /cgroup rw,nosuid - cgroup2 cgroup2 rw\n"
            + "35 31 0:32 / /cgroup/memory rw,relatime - cgroup cgroup rw,memory\n";

    private void proc(String selfCgroup) throws IOException {
        Path proc = dir.resolve("proc");
        write(proc.resolve("meminfo"), "MemTotal:       8388608 kB\nMemAvailable:   4194304 kB\n");
        write(proc.resolve("self/cgroup"), selfCgroup);
        write(proc.resolve("self/mountinfo"), MOUNTINFO);
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    private MachineMemory read(String selfCgroup, Map<String, String> cgroupFiles) throws IOException {
        proc(selfCgroup);
        Path cgroup = dir.resolve("cgroup");
        Files.createDirectories(cgroup);
        for (var e : cgroupFiles.entrySet()) {
            write(cgroup.resolve(e.getKey()), e.getValue() + "\n");
        }
        return MachineMemory.read(dir).orElseThrow();
    }

    @Test
    void v2TheLowestMemoryMaxUpTheTreeWithKubernetesOomGroup() throws Exception {
        MachineMemory m = read("0::/kubepods/pod1/ctr\n", Map.of(
                "kubepods/memory.max", "2147483648",
                "kubepods/pod1/memory.max", "1073741824",
                "kubepods/pod1/ctr/memory.max", "max",
                "kubepods/pod1/ctr/memory.oom.group", "1"));
        assertEquals(1024 * MIB, m.available());
        assertEquals(1024 * MIB, m.total());
        assertEquals("memory.max of this process's cgroup", m.availableSource());
        assertTrue(m.onOom().contains("memory.oom.group = 1") && m.onOom().contains("the master and all workers"),
                m.onOom());
    }

    @Test
    void v2WithoutOomGroupSaysWhatTheKernelPicks() throws Exception {
        MachineMemory m = read("0::/\n", Map.of("memory.max", "536870912", "memory.oom.group", "0"));
        assertEquals(512 * MIB, m.available());
        assertTrue(m.onOom().startsWith("if the cgroup runs out, the kernel's OOM killer kills a process within it"),
                m.onOom());
    }

    @Test
    void v1ReadsTheMemoryControllersLimitInBytes() throws Exception {
        // A hybrid machine: the v2 line is there too, but the memory controller is v1's.
        MachineMemory m = read("12:cpu,cpuacct:/docker/abc\n9:memory:/docker/abc\n1:name=systemd:/docker/abc\n0::/\n",
                Map.of("memory/memory.limit_in_bytes", "9223372036854771712",
                        "memory/docker/abc/memory.limit_in_bytes", "805306368", "memory.max", "1"));
        assertEquals(768 * MIB, m.available());
        assertEquals("memory.limit_in_bytes of this process's cgroup (cgroup v1)", m.availableSource());
        assertTrue(m.onOom().contains("kills a process within it"), m.onOom());
    }

    @Test
    void v1UnlimitedOrALimitAboveMemAvailableLeavesMemAvailable() throws Exception {
        MachineMemory unlimited = read("9:memory:/\n", Map.of("memory/memory.limit_in_bytes", "9223372036854771712"));
        assertEquals(4096 * MIB, unlimited.available());
        assertEquals("MemAvailable in /proc/meminfo", unlimited.availableSource());
        assertEquals("", unlimited.onOom());
        MachineMemory large = read("0::/a\n", Map.of("a/memory.max", Long.toString(16384 * MIB)));
        assertEquals(4096 * MIB, large.available());
        assertEquals("", large.onOom());
    }

    @Test
    void noCgroupLineOrNoProcIsHandled() throws Exception {
        assertEquals(4096 * MIB, read("", Map.of()).available());
        assertEquals(Optional.empty(), MachineMemory.read(dir.resolve("no-root")));
    }

    @Test
    void theCgroupPathIsJoinedToTheMountThatShowsIt() throws Exception {
        // A bind mount of a sub-tree: the mount's root is /kubepods/pod1, shown at /cgroup; the path is below it.
        proc("0::/kubepods/pod1/ctr\n");
        write(dir.resolve("proc/self/mountinfo"), "30 23 0:26 /kubepods/pod1 /cgroup rw - cgroup2 cgroup2 rw\n");
        write(dir.resolve("cgroup/memory.max"), Long.toString(1024 * MIB));
        write(dir.resolve("cgroup/ctr/memory.max"), Long.toString(768 * MIB));
        assertEquals(768 * MIB, MachineMemory.read(dir).orElseThrow().available());
    }

    @Test
    void theWarningSaysWhatAnOomInTheCgroupDoes() throws Exception {
        MachineMemory m = read("0::/\n", Map.of("memory.max", Long.toString(512 * MIB), "memory.oom.group", "1"));
        Settings s = ConfigLoader.load(new ConfigSources(Optional.empty(), Map.of("DROVER_WORKERS", "2"),
                List.of(new ConfigSources.Flag("drover.app", "dev.example.App", "argument APP"))));
        String warning = CapacityCheck.warnings(s, m).get(0);
        assertTrue(warning.endsWith("lower drover.memory.hard-limit); if the cgroup runs out, the kernel's OOM killer "
                + "acts within it, and with memory.oom.group = 1 (as Kubernetes sets it) kills every process of it at "
                + "once: the master and all workers"), warning);
        MachineMemory noGroup = read("0::/\n", Map.of("memory.max", Long.toString(512 * MIB), "memory.oom.group", "0"));
        assertTrue(noGroup.onOom().endsWith("under systemd, whose default OOMPolicy=stop stops the unit after one OOM "
                + "kill in it, the whole service"), noGroup.onOom());
    }
}
