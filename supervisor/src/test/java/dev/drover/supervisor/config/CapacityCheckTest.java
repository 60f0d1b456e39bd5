package dev.drover.supervisor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The "more workers than memory" warning, against memory figures given by the test. */
class CapacityCheckTest {

    private static final long GIB = 1L << 30;
    private static final MachineMemory FOUR_GIB = new MachineMemory(4 * GIB, "MemAvailable in /proc/meminfo", 8 * GIB);

    private static Settings settings(Map<String, String> env) throws ConfigError {
        return ConfigLoader.load(new ConfigSources(Optional.empty(), env,
                List.of(new ConfigSources.Flag("drover.app", "dev.example.App", "argument APP"))));
    }

    @Test
    void withoutAHardLimitAWorkerCountsAsItsMaxHeapPlusWhatIsOutsideIt() throws Exception {
        // The default options say -Xmx256m: 256 + 80 = 336 MiB a worker; 4 GiB hold 12 of them and the master's 64.
        assertEquals(List.of(), CapacityCheck.warnings(settings(Map.of("DROVER_WORKERS", "12")), FOUR_GIB));
        List<String> warnings = CapacityCheck.warnings(settings(Map.of("DROVER_WORKERS", "13")), FOUR_GIB);
        assertEquals(List.of("drover.workers = 13 (environment variable DROVER_WORKERS): more workers than this "
                + "machine's memory can hold: 13 x 336 MiB (-Xmx256m from drover.worker-jvm-options + ~80 MiB outside "
                + "the heap) + ~64 MiB for the master = 4.3 GiB, but 4 GiB is available (MemAvailable in /proc/meminfo); at most 12 fit "
                + "(probably a mistake: fewer workers, a smaller -Xmx, or a lower drover.memory.hard-limit)"), warnings);
    }

    @Test
    void aHardLimitIsWhatAWorkerMayComeTo() throws Exception {
        Settings s = settings(Map.of("DROVER_WORKERS", "5", "DROVER_MEMORY_HARD_LIMIT", "1G"));
        String warning = CapacityCheck.warnings(s, FOUR_GIB).get(0);
        assertTrue(warning.contains("5 x 1 GiB (drover.memory.hard-limit, environment variable "
                + "DROVER_MEMORY_HARD_LIMIT) + ~64 MiB for the master = 5.1 GiB, but 4 GiB is available"), warning);
        assertTrue(warning.contains("at most 3 fit"), "4 x 1 GiB leave no room for the master: " + warning);
        assertEquals(List.of(), CapacityCheck.warnings(settings(Map.of("DROVER_WORKERS", "2",
                "DROVER_MEMORY_HARD_LIMIT", "1G")), FOUR_GIB));
    }

    @Test
    void withoutXmxTheJvmsDefaultShareOfTheMachineCounts() throws Exception {
        Settings s = settings(Map.of("DROVER_WORKERS", "3", "DROVER_WORKER_JVM_OPTIONS", "-XX:+UseSerialGC"));
        String warning = CapacityCheck.warnings(s, FOUR_GIB).get(0);
        assertTrue(warning.contains("3 x 2.1 GiB (no -Xmx in drover.worker-jvm-options: the JVM's default heap limit, "
                + "25 % of 8 GiB + ~80 MiB outside the heap)"), warning);
    }

    @Test
    void aCgroupLimitIsNamedAsTheSource() throws Exception {
        MachineMemory container = new MachineMemory(512L << 20, "memory.max of this process's cgroup", 512L << 20);
        String warning = CapacityCheck.warnings(settings(Map.of("DROVER_WORKERS", "2")), container).get(0);
        assertTrue(warning.contains("2 x 336 MiB (-Xmx256m from drover.worker-jvm-options + ~80 MiB outside the heap) "
                + "+ ~64 MiB for the master = 736 MiB, but 512 MiB is available (memory.max of this process's cgroup); "
                + "at most 1 fit"), warning);
    }

    @Test
    void duringRecyclesTheSurgeCountsToo() throws Exception {
        // 3 x 1 GiB + 64 MiB fit in 4 GiB; with max-surge = 1 a fourth worker runs beside them during a recycle.
        Settings s = settings(Map.of("DROVER_WORKERS", "3", "DROVER_MEMORY_HARD_LIMIT", "1G",
                "DROVER_RELOAD_SURGE", "1"));
        MachineMemory container = new MachineMemory(4 * GIB, "memory.max of this process's cgroup", 4 * GIB,
                "if the cgroup runs out, the kernel's OOM killer acts within it");
        assertEquals(List.of("drover.max-surge = 1 (the default in reference.conf): during recycles (workers + max-surge) x "
                + "drover.memory.hard-limit + the master = (3 + 1) x 1 GiB + ~64 MiB = 4.1 GiB, above the 4 GiB "
                + "available (memory.max of this process's cgroup); if the cgroup runs out, the kernel's OOM killer "
                + "acts within it (fewer workers or a lower drover.memory.hard-limit keep it apart)"),
                CapacityCheck.warnings(s, container));
        assertEquals(List.of(), CapacityCheck.warnings(settings(Map.of("DROVER_WORKERS", "2",
                "DROVER_MEMORY_HARD_LIMIT", "1G")), container));
    }

    @Test
    void duringReloadsTheReloadSurgeCountsWhenAboveMaxSurge() throws Exception {
        // 3 x 1 GiB + 64 MiB fit in 5 GiB, and one more (max-surge 1); reload-surge all boots the 2 others at once.
        MachineMemory container = new MachineMemory(5 * GIB, "memory.max of this process's cgroup", 5 * GIB);
        List<String> warnings = CapacityCheck.warnings(settings(Map.of("DROVER_WORKERS", "3",
                "DROVER_MEMORY_HARD_LIMIT", "1G")), container);
        assertEquals(List.of("drover.reload-surge = all (the default in reference.conf): during reloads, once the "
                + "canary serves, up to 2 JVM(s) more than drover.workers (the replacements of the old workers boot "
                + "while these serve): (3 + 2) x 1 GiB + ~64 MiB = 5.1 GiB, above the 5 GiB available (memory.max of "
                + "this process's cgroup) (drover.reload-surge = 1 keeps a reload within it)"), warnings);
        assertEquals(List.of(), CapacityCheck.warnings(settings(Map.of("DROVER_WORKERS", "3",
                "DROVER_MEMORY_HARD_LIMIT", "1G", "DROVER_RELOAD_SURGE", "1")), container));
    }

    @Test
    void aHeapLimitAboveTheHardLimitIsNoCeiling() throws Exception {
        Settings s = settings(Map.of("DROVER_MEMORY_HARD_LIMIT", "600M", "DROVER_WORKER_JVM_OPTIONS", "-Xmx1g"));
        assertEquals(java.util.Optional.of("-Xmx1g in drover.worker-jvm-options (environment variable "
                + "DROVER_WORKER_JVM_OPTIONS), plus ~150 MiB a JVM needs beside its heap, is above "
                + "drover.memory.hard-limit = 600 MiB (environment variable DROVER_MEMORY_HARD_LIMIT): the heap may grow "
                + "past the limit under garbage alone, and workers are recycled for memory a collection would have "
                + "freed; give the workers -Xmx450m or less (hard limit - ~150 MiB), or raise the hard limit"),
                CapacityCheck.heapAboveHardLimit(s, 8 * GIB));
        Settings noXmx = settings(Map.of("DROVER_MEMORY_HARD_LIMIT", "600M", "DROVER_WORKER_JVM_OPTIONS",
                "-XX:+UseSerialGC"));
        assertTrue(CapacityCheck.heapAboveHardLimit(noXmx, 8 * GIB).orElseThrow().startsWith("no -Xmx in "
                + "drover.worker-jvm-options: the JVM's default heap limit is 2 GiB, plus ~150 MiB"));
        assertEquals(java.util.Optional.empty(), CapacityCheck.heapAboveHardLimit(settings(Map.of(
                "DROVER_MEMORY_HARD_LIMIT", "600M", "DROVER_WORKER_JVM_OPTIONS", "-Xmx450m")), 8 * GIB));
        assertEquals(java.util.Optional.empty(), CapacityCheck.heapAboveHardLimit(settings(Map.of(
                "DROVER_WORKER_JVM_OPTIONS", "-Xmx1g")), 8 * GIB), "no hard limit, nothing to compare with");
    }

    @Test
    void aHardLimitBoundsDirectMemoryAndMetaspaceUnlessTheOptionsDo() {
        assertEquals(List.of("-XX:MaxDirectMemorySize=150m", "-XX:MaxMetaspaceSize=150m"),
                WorkerMemory.guards(600L << 20, List.of("-Xmx256m")));
        assertEquals(List.of("-XX:MaxDirectMemorySize=64m", "-XX:MaxMetaspaceSize=128m"),
                WorkerMemory.guards(100L << 20, List.of()), "the floors");
        assertEquals(List.of("-XX:MaxMetaspaceSize=1g"),
                WorkerMemory.guards(4L << 30, List.of("-XX:MaxDirectMemorySize=16m")));
        assertEquals(List.of(), WorkerMemory.guards(0, List.of()), "no hard limit, no bounds");
    }

    @Test
    void theMachinesFiguresAreRead() {
        MachineMemory here = MachineMemory.read().orElseThrow();
        assertTrue(here.available() > 0 && here.total() > 0, here.toString());
        assertEquals(OptionalLongOf(2048L * 1024), MachineMemory.meminfoField(
                List.of("MemTotal:       4096 kB", "MemAvailable:   2048 kB"), "MemAvailable:"));
    }

    private static java.util.OptionalLong OptionalLongOf(long value) {
        return java.util.OptionalLong.of(value);
    }
}
