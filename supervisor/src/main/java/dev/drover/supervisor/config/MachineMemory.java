package dev.drover.supervisor.config;

import dev.drover.supervisor.os.CgroupLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * How much memory the workers can have: the kernel's MemAvailable, or the memory limit of this process's cgroup (v2
 * memory.max, v1 memory.limit_in_bytes, of its own cgroup or a parent) where that is lower, as in a container.
 * {@code total} is what a JVM sizes its default heap from (MemTotal, or the cgroup limit). {@code onOom} says what
 * the kernel does when that cgroup runs out ("" when the figure is not a cgroup's).
 */
public record MachineMemory(long available, String availableSource, long total, String onOom) {

    /** cgroup v1 writes "no limit" as the largest page-aligned long (9223372036854771712); anything this big is none. */
    static final long UNLIMITED = 1L << 62;

    public MachineMemory(long available, String availableSource, long total) {
        this(available, availableSource, total, "");
    }

    /** This machine's figures, or empty where /proc/meminfo cannot be read (then nothing is warned about). */
    public static Optional<MachineMemory> read() {
        return read(Path.of("/"));
    }

    /**
     * As {@link #read()}, with {@code root} standing for "/": proc/meminfo, proc/self/cgroup, proc/self/mountinfo and
     * the mount points it names are read under it.
     */
    static Optional<MachineMemory> read(Path root) {
        try {
            List<String> meminfo = Files.readAllLines(root.resolve("proc/meminfo"));
            OptionalLong available = meminfoField(meminfo, "MemAvailable:");
            OptionalLong total = meminfoField(meminfo, "MemTotal:");
            if (available.isEmpty() || total.isEmpty()) {
                return Optional.empty();
            }
            Optional<CgroupLimit> cgroup = cgroupLimit(CgroupLayout.read(root));
            if (cgroup.isPresent() && cgroup.get().bytes() < available.getAsLong()) {
                CgroupLimit c = cgroup.get();
                return Optional.of(new MachineMemory(c.bytes(), c.source(), Math.min(c.bytes(), total.getAsLong()),
                        c.onOom()));
            }
            return Optional.of(new MachineMemory(available.getAsLong(), "MemAvailable in /proc/meminfo",
                    total.getAsLong()));
        } catch (IOException e) {
            return Optional.empty();
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

    /** The lowest limit found, which file says it, and what an OOM there does. */
    record CgroupLimit(long bytes, String source, String onOom) {
    }

    /**
     * The lowest limit from this process's cgroup up to its mount's root: v1's if the memory controller is on a v1
     * hierarchy (a hybrid machine lists both, and a controller bound to v1 is absent from v2), else v2's.
     */
    static Optional<CgroupLimit> cgroupLimit(CgroupLayout layout) {
        if (layout.v1Memory().isPresent()) {
            return lowest(layout.v1Memory().get(), "memory.limit_in_bytes", false);
        }
        return layout.v2().flatMap(dir -> lowest(dir, "memory.max", true));
    }

    private static Optional<CgroupLimit> lowest(CgroupLayout.Dir own, String file, boolean v2) {
        OptionalLong lowest = OptionalLong.empty();
        boolean oomGroup = false;
        // In a container with its own cgroup namespace the path is "/" and the limit sits at the mount's root.
        Path root = own.mount();
        for (Path dir = own.path().normalize(); dir != null && dir.startsWith(root); dir = dir.getParent()) {
            OptionalLong limit = limit(dir.resolve(file));
            if (limit.isPresent() && (lowest.isEmpty() || limit.getAsLong() < lowest.getAsLong())) {
                lowest = limit;
            }
            oomGroup |= v2 && text(dir.resolve("memory.oom.group")).equals("1");
        }
        if (lowest.isEmpty()) {
            return Optional.empty();
        }
        String source = file + " of this process's cgroup" + (v2 ? "" : " (cgroup v1)");
        return Optional.of(new CgroupLimit(lowest.getAsLong(), source, onOom(oomGroup)));
    }

    private static String onOom(boolean oomGroup) {
        return oomGroup
                ? "if the cgroup runs out, the kernel's OOM killer acts within it, and with memory.oom.group = 1 (as"
                        + " Kubernetes sets it) kills every process of it at once: the master and all workers"
                : "if the cgroup runs out, the kernel's OOM killer kills a process within it: a worker (replaced) or"
                        + " the master (and with it every worker); under Kubernetes, which sets memory.oom.group = 1,"
                        + " the whole container at once; under systemd, whose default OOMPolicy=stop stops the unit"
                        + " after one OOM kill in it, the whole service";
    }

    private static OptionalLong limit(Path file) {
        try {
            String text = text(file);
            long value = text.equals("max") || text.isEmpty() ? UNLIMITED : Long.parseLong(text);
            return value >= UNLIMITED ? OptionalLong.empty() : OptionalLong.of(value);
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** The file's trimmed text, or "" where it is absent (the root has no memory.max) or unreadable. */
    private static String text(Path file) {
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            return "";
        }
    }
}
