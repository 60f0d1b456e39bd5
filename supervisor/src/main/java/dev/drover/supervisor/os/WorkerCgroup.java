package dev.drover.supervisor.os;

import java.nio.file.Path;
import java.util.Optional;

/**
 * One worker's cgroup (made by {@link Cgroups#create}): the cgroup.procs its start wrapper joins before exec'ing
 * java, and its memory.events, whose oom_kill counter tells a kernel OOM kill from any other SIGKILL.
 */
public final class WorkerCgroup {

    private final Path dir;
    private final long memoryMax;
    private final long oomKillsAtStart;

    WorkerCgroup(Path dir, long memoryMax, long oomKillsAtStart) {
        this.dir = dir;
        this.memoryMax = memoryMax;
        this.oomKillsAtStart = oomKillsAtStart;
    }

    public Path dir() {
        return dir;
    }

    /** The file the worker writes its own pid to, so that every page it touches is charged here. */
    public Path procs() {
        return dir.resolve("cgroup.procs");
    }

    /**
     * After the worker's exit: what the kernel's OOM killer did in this cgroup since it was made, if anything ("its
     * cgroup ... went over memory.max (660.0 MiB): memory.events oom_kill 0 -> 1"), else empty.
     */
    public Optional<String> oomKill() {
        long now = oomKills(dir);
        if (now <= oomKillsAtStart) {
            return Optional.empty();
        }
        return Optional.of("its cgroup " + dir + " went over memory.max (" + (memoryMax >> 20) + " MiB): "
                + "memory.events oom_kill " + oomKillsAtStart + " -> " + now);
    }

    /** Removes the cgroup (the worker has exited); false if it could not (logged by the caller if it cares). */
    public boolean remove() {
        return Cgroups.remove(dir);
    }

    /** The oom_kill counter of {@code dir}'s memory.events; 0 where the file or the line is missing. */
    static long oomKills(Path dir) {
        return eventCount(Cgroups.readOrEmpty(dir.resolve("memory.events")), "oom_kill");
    }

    /** One counter of a memory.events text ("low 0\nhigh 12\nmax 3\noom 1\noom_kill 1\n..."); 0 if absent. */
    static long eventCount(String events, String name) {
        return events.lines().map(l -> l.strip().split("\\s+")).filter(f -> f.length == 2 && f[0].equals(name))
                .mapToLong(f -> parse(f[1])).findFirst().orElse(0);
    }

    private static long parse(String number) {
        try {
            return Long.parseLong(number);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    @Override
    public String toString() {
        return dir.toString();
    }
}
