package dev.drover.supervisor.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * How much memory the workers can have: the kernel's MemAvailable, or the cgroup v2 memory.max of this process
 * (or of a parent cgroup) where that is lower, as in a container. {@code total} is what a JVM sizes its default
 * heap from (MemTotal, or the cgroup limit).
 */
public record MachineMemory(long available, String availableSource, long total) {

    private static final Path MEMINFO = Path.of("/proc/meminfo");
    private static final Path CGROUP = Path.of("/proc/self/cgroup");
    private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

    /** This machine's figures, or empty where /proc/meminfo cannot be read (then nothing is warned about). */
    public static java.util.Optional<MachineMemory> read() {
        try {
            List<String> meminfo = Files.readAllLines(MEMINFO);
            OptionalLong available = meminfoField(meminfo, "MemAvailable:");
            OptionalLong total = meminfoField(meminfo, "MemTotal:");
            if (available.isEmpty() || total.isEmpty()) {
                return java.util.Optional.empty();
            }
            OptionalLong cgroup = cgroupLimit();
            if (cgroup.isPresent() && cgroup.getAsLong() < available.getAsLong()) {
                return java.util.Optional.of(new MachineMemory(cgroup.getAsLong(), "memory.max of this process's cgroup",
                        Math.min(cgroup.getAsLong(), total.getAsLong())));
            }
            return java.util.Optional.of(new MachineMemory(available.getAsLong(), "MemAvailable in /proc/meminfo",
                    total.getAsLong()));
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
    }

    static OptionalLong meminfoField(List<String> lines, String name) {
        for (String line : lines) {
            if (line.startsWith(name)) {
                String[] parts = line.substring(name.length()).trim().split("\\s+");
                return OptionalLong.of(Long.parseLong(parts[0]) * 1024); // the kernel writes "kB": KiB
            }
        }
        return OptionalLong.empty();
    }

    /** The lowest memory.max from this process's cgroup v2 up to the root; empty on cgroup v1 or without a limit. */
    private static OptionalLong cgroupLimit() throws IOException {
        String unified = Files.readAllLines(CGROUP).stream().filter(l -> l.startsWith("0::")).findFirst()
                .map(l -> l.substring(3)).orElse(null);
        if (unified == null) {
            return OptionalLong.empty();
        }
        OptionalLong lowest = OptionalLong.empty();
        for (Path dir = CGROUP_ROOT.resolve(unified.replaceFirst("^/", "")); dir.startsWith(CGROUP_ROOT);
             dir = dir.getParent()) {
            OptionalLong limit = memoryMax(dir.resolve("memory.max"));
            if (limit.isPresent() && (lowest.isEmpty() || limit.getAsLong() < lowest.getAsLong())) {
                lowest = limit;
            }
        }
        return lowest;
    }

    private static OptionalLong memoryMax(Path file) {
        try {
            String text = Files.readString(file).trim();
            return text.equals("max") ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(text));
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty(); // no limit here (the root has no memory.max), or not cgroup v2
        }
    }
}
