package dev.drover.supervisor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * workers = auto against fake cgroupfs trees (v2 at /cgroup, v1 controllers under /cgroup/NAME, as MachineMemoryTest
 * builds them): the CPU quota, the cpuset, the memory cap, and the processors the JVM sees where there is no limit.
 */
class AutoWorkersTest {

    private static final long MIB = 1L << 20;
    /** What each worker is counted at: a 300 MiB hard limit. */
    private static final CapacityCheck.PerWorker PER_WORKER = new CapacityCheck.PerWorker(300 * MIB,
            "drover.memory.hard-limit, test");

    @TempDir
    Path dir;

    private AutoWorkers decide(String selfCgroup, String mountinfo, Map<String, String> files) throws IOException {
        write(dir.resolve("proc/self/cgroup"), selfCgroup);
        write(dir.resolve("proc/self/mountinfo"), mountinfo);
        for (var e : files.entrySet()) {
            write(dir.resolve("cgroup").resolve(e.getKey()), e.getValue() + "\n");
        }
        return AutoWorkers.decide(dir, PER_WORKER, 16);
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    private static final String V2 = "30 23 0:26 / /cgroup rw,nosuid - cgroup2 cgroup2 rw\n";
    private static final String V1 = "33 31 0:29 / /cgroup/cpu rw - cgroup cgroup rw,cpu,cpuacct\n"
            + "34 31 0:30 / /cgroup/cpuset rw - cgroup cgroup rw,cpuset\n"
            + "35 31 0:32 / /cgroup/memory rw - cgroup cgroup rw,memory\n";

    @Test
    void v2TheLowestQuotaUpTheTreeRoundedUp() throws Exception {
        AutoWorkers auto = decide("0::/kubepods/pod1/ctr\n", V2, Map.of(
                "kubepods/pod1/cpu.max", "250000 100000",
                "kubepods/pod1/ctr/cpu.max", "max 100000",
                "kubepods/pod1/ctr/cpuset.cpus.effective", "0-7"));
        assertEquals(3, auto.workers(), auto.found());
        assertTrue(auto.found().contains("cpu.max 250000 100000 = 3 CPU(s)"), auto.found());
        assertTrue(auto.found().contains("cpuset.cpus.effective 0-7 = 8 CPU(s)"), auto.found());
        assertTrue(auto.found().contains("one per CPU") && auto.found().contains("no memory limit"), auto.found());
    }

    @Test
    void v2TheCpusetWhenItIsNarrowerThanTheQuota() throws Exception {
        AutoWorkers auto = decide("0::/\n", V2, Map.of("cpu.max", "400000 100000", "cpuset.cpus.effective", "2,5"));
        assertEquals(2, auto.workers(), auto.found());
    }

    @Test
    void v2CappedByMemoryMaxLessTheMaster() throws Exception {
        // 1 GiB - 64 MiB for the master holds 3 workers of 300 MiB, fewer than the 4 CPUs.
        AutoWorkers auto = decide("0::/\n", V2, Map.of("cpu.max", "400000 100000", "memory.max",
                Long.toString(1024 * MIB)));
        assertEquals(3, auto.workers(), auto.found());
        assertTrue(auto.found().startsWith("drover.workers = auto: 3 worker(s), capped by memory"), auto.found());
        assertTrue(auto.found().contains("memory.max of this process's cgroup"), auto.found());
    }

    @Test
    void atLeastOneWorkerWhenNoneFits() throws Exception {
        AutoWorkers auto = decide("0::/\n", V2, Map.of("memory.max", Long.toString(128 * MIB)));
        assertEquals(1, auto.workers(), auto.found());
    }

    @Test
    void v1QuotaOverPeriodCpusetAndMemoryLimit() throws Exception {
        AutoWorkers auto = decide("12:cpu,cpuacct:/docker/abc\n11:cpuset:/docker/abc\n9:memory:/docker/abc\n",
                V1, Map.of(
                        "cpu/docker/abc/cpu.cfs_quota_us", "600000",
                        "cpu/docker/abc/cpu.cfs_period_us", "100000",
                        "cpuset/docker/abc/cpuset.effective_cpus", "0-3",
                        "memory/docker/abc/memory.limit_in_bytes", Long.toString(2048 * MIB)));
        assertEquals(4, auto.workers(), auto.found());
        assertTrue(auto.found().contains("cpu.cfs_quota_us 600000 / cpu.cfs_period_us 100000 = 6 CPU(s)"),
                auto.found());
        assertTrue(auto.found().contains("cpuset.effective_cpus 0-3 = 4 CPU(s)"), auto.found());
    }

    @Test
    void v1NoQuotaIsMinusOne() throws Exception {
        AutoWorkers auto = decide("12:cpu,cpuacct:/\n", V1, Map.of("cpu/cpu.cfs_quota_us", "-1",
                "cpu/cpu.cfs_period_us", "100000"));
        assertEquals(16, auto.workers(), auto.found());
        assertTrue(auto.found().contains("16 processor(s) the JVM sees"), auto.found());
    }

    @Test
    void noCgroupsAtAllMeansTheJvmsProcessors() throws Exception {
        AutoWorkers auto = decide("", "", Map.of());
        assertEquals(16, auto.workers(), auto.found());
    }

    @Test
    void countsCpuLists() {
        assertEquals(7, AutoWorkers.countCpus("0-3,6,8-9"));
        assertEquals(1, AutoWorkers.countCpus("5"));
    }
}
