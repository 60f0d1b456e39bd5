package dev.drover.supervisor.config;

import dev.drover.supervisor.os.CgroupLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * {@code workers = auto}: one worker per CPU the process may use (its cgroup's CPU quota and cpuset, else the
 * processors the JVM sees), capped by how many fit in its cgroup's memory limit beside the master. {@code found} is
 * the one line the master logs at start (and at each reload, which works it out again).
 *
 * <p>One worker per CPU, not Gunicorn's 2 x cores + 1: a worker is a JVM with its own event loops, each already
 * using every CPU it is given; a second JVM per CPU only adds a heap.
 */
public record AutoWorkers(int workers, String found) {

    /** {@code root} stands for "/" (tests pass a fake tree); {@code perWorker}: what one worker may come to. */
    static AutoWorkers decide(Path root, CapacityCheck.PerWorker perWorker, int processors) {
        List<String> notes = new ArrayList<>();
        CgroupLayout layout = CgroupLayout.read(root);
        OptionalInt quota = layout.v2().isPresent() && CgroupLayout.v1(root, "cpu").isEmpty()
                ? v2Quota(layout.v2().get(), notes) : CgroupLayout.v1(root, "cpu").map(d -> v1Quota(d, notes))
                .orElse(OptionalInt.empty());
        OptionalInt cpuset = cpuset(root, layout, notes);
        int cpus = Math.min(quota.orElse(Integer.MAX_VALUE), cpuset.orElse(Integer.MAX_VALUE));
        if (cpus == Integer.MAX_VALUE) {
            cpus = processors;
            notes.add("no CPU limit in cgroups: " + processors + " processor(s) the JVM sees");
        }
        int workers = cpus;
        Optional<MachineMemory.CgroupLimit> memory = MachineMemory.cgroupLimit(layout);
        if (memory.isPresent()) {
            long room = Math.max(0, memory.get().bytes() - CapacityCheck.MASTER);
            int fit = (int) Math.min(Integer.MAX_VALUE, Math.max(1, room / perWorker.bytes()));
            notes.add(Sizes.human(memory.get().bytes()) + " (" + memory.get().source() + ") - ~"
                    + Sizes.human(CapacityCheck.MASTER) + " for the master holds " + fit + " x "
                    + Sizes.human(perWorker.bytes()) + " (" + perWorker.why() + ")");
            workers = Math.min(cpus, fit);
        } else {
            notes.add("no memory limit in cgroups");
        }
        return new AutoWorkers(workers, "drover.workers = auto: " + workers + " worker(s), " + (workers < cpus
                ? "capped by memory" : "one per CPU") + " (" + String.join("; ", notes) + ")");
    }

    /** cgroup v2: the lowest cpu.max ("QUOTA PERIOD" or "max PERIOD") from this cgroup up, rounded up to CPUs. */
    private static OptionalInt v2Quota(CgroupLayout.Dir own, List<String> notes) {
        OptionalInt lowest = OptionalInt.empty();
        for (Path dir = own.path().normalize(); dir != null && dir.startsWith(own.mount()); dir = dir.getParent()) {
            String[] fields = text(dir.resolve("cpu.max")).split("\\s+");
            if (fields.length == 2 && fields[0].matches("\\d+") && fields[1].matches("\\d+")) {
                lowest = lower(lowest, cpus(Long.parseLong(fields[0]), Long.parseLong(fields[1]), "cpu.max "
                        + fields[0] + " " + fields[1], notes));
            }
        }
        return lowest;
    }

    /** cgroup v1: cpu.cfs_quota_us over cpu.cfs_period_us (-1: none), lowest from this cgroup up. */
    private static OptionalInt v1Quota(CgroupLayout.Dir own, List<String> notes) {
        OptionalInt lowest = OptionalInt.empty();
        for (Path dir = own.path().normalize(); dir != null && dir.startsWith(own.mount()); dir = dir.getParent()) {
            String quota = text(dir.resolve("cpu.cfs_quota_us"));
            String period = text(dir.resolve("cpu.cfs_period_us"));
            if (quota.matches("\\d+") && period.matches("\\d+")) {
                lowest = lower(lowest, cpus(Long.parseLong(quota), Long.parseLong(period), "cpu.cfs_quota_us "
                        + quota + " / cpu.cfs_period_us " + period, notes));
            }
        }
        return lowest;
    }

    /** A quota of 1.5 CPUs gives 2 workers: the JVM rounds its processor count up the same way. */
    private static OptionalInt cpus(long quota, long period, String what, List<String> notes) {
        if (period <= 0) {
            return OptionalInt.empty();
        }
        int cpus = (int) Math.max(1, Math.min(Integer.MAX_VALUE, (quota + period - 1) / period));
        notes.add(what + " = " + cpus + " CPU(s)");
        return OptionalInt.of(cpus);
    }

    /** cpuset.cpus.effective (v2) or cpuset.effective_cpus (v1): the CPUs the process may run on. */
    private static OptionalInt cpuset(Path root, CgroupLayout layout, List<String> notes) {
        Optional<CgroupLayout.Dir> v1 = CgroupLayout.v1(root, "cpuset");
        String file = v1.isPresent() ? "cpuset.effective_cpus" : "cpuset.cpus.effective";
        Optional<CgroupLayout.Dir> dir = v1.or(layout::v2);
        String list = dir.map(d -> text(d.path().resolve(file))).orElse("");
        if (list.isEmpty()) {
            return OptionalInt.empty();
        }
        int count;
        try {
            count = countCpus(list);
        } catch (NumberFormatException e) {
            return OptionalInt.empty();
        }
        notes.add(file + " " + list + " = " + count + " CPU(s)");
        return OptionalInt.of(count);
    }

    /** "0-3,6,8-9" is 7 CPUs. */
    static int countCpus(String list) {
        int count = 0;
        for (String range : list.split(",")) {
            String[] ends = range.trim().split("-");
            count += ends.length == 2 ? Integer.parseInt(ends[1]) - Integer.parseInt(ends[0]) + 1 : 1;
        }
        return count;
    }

    private static OptionalInt lower(OptionalInt a, OptionalInt b) {
        return a.isEmpty() || (b.isPresent() && b.getAsInt() < a.getAsInt()) ? b : a;
    }

    private static String text(Path file) {
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            return "";
        }
    }
}
