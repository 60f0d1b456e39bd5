package dev.drover.supervisor.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Warns (never refuses) about settings that are probably mistakes: more workers than the machine's (or the
 * container's) memory can hold, at rest or during recycles; a heap limit above the hard limit. A warning names the
 * key, the value, its origin and the arithmetic, so the operator can judge it.
 */
public final class CapacityCheck {

    private CapacityCheck() {
    }

    /** The warnings for this machine; the memory ones none if its memory cannot be read. */
    public static List<String> warnings(Settings settings) {
        List<String> warnings = new ArrayList<>(MachineMemory.read().map(memory -> warnings(settings, memory))
                .orElse(List.of()));
        heapAboveHardLimit(settings, MachineMemory.read().map(MachineMemory::total).orElse(0L))
                .ifPresent(warnings::add);
        return warnings;
    }

    /**
     * What the master itself is assumed to take: scripts/drover gives it -Xmx64m, and its heap stays far below that
     * (it holds the workers' bookkeeping, not requests); what a JVM needs beside its heap makes up the rest. An
     * estimate, not a reading: the master is not running yet when this is checked.
     */
    static final long MASTER = 64L << 20;

    static List<String> warnings(Settings settings, MachineMemory memory) {
        List<String> warnings = new ArrayList<>();
        PerWorker perWorker = perWorker(settings, memory);
        double needed = (double) settings.workers() * perWorker.bytes() + MASTER;
        if (needed > memory.available()) {
            long fit = Math.max(0, memory.available() - MASTER) / perWorker.bytes();
            warnings.add("drover.workers = " + settings.workers() + " (" + settings.origin("workers")
                    + "): more workers than this machine's memory can hold: " + settings.workers() + " x "
                    + Sizes.human(perWorker.bytes()) + " (" + perWorker.why() + ") + ~" + Sizes.human(MASTER)
                    + " for the master = " + Sizes.human((long) Math.min(needed, Long.MAX_VALUE)) + ", but "
                    + Sizes.human(memory.available()) + " is available (" + memory.availableSource() + "); at most "
                    + fit + " fit (probably a mistake: fewer workers, a smaller -Xmx, or a lower "
                    + "drover.memory.hard-limit)" + (memory.onOom().isEmpty() ? "" : "; " + memory.onOom()));
        } else {
            duringRecycles(settings, memory, perWorker).ifPresent(warnings::add);
            duringReloads(settings, memory, perWorker).ifPresent(warnings::add);
        }
        return warnings;
    }

    /**
     * A planned recycle starts the replacement before the old worker drains: for that while, max-surge workers more
     * than drover.workers hold memory. Only the hard limit bounds what they may hold, so only it is counted here.
     */
    static Optional<String> duringRecycles(Settings settings, MachineMemory memory, PerWorker perWorker) {
        int surge = settings.recycle().maxSurge();
        long hard = settings.memory().hardLimit();
        double needed = (double) (settings.workers() + surge) * perWorker.bytes() + MASTER;
        if (hard <= 0 || needed <= memory.available()) {
            return Optional.empty();
        }
        return Optional.of("drover.max-surge = " + surge + " (" + settings.origin("max-surge") + "): during recycles "
                + "(workers + max-surge) x drover.memory.hard-limit + the master = (" + settings.workers() + " + "
                + surge + ") x " + Sizes.human(hard) + " + ~" + Sizes.human(MASTER) + " = "
                + Sizes.human((long) Math.min(needed, Long.MAX_VALUE)) + ", above the " + Sizes.human(memory.available())
                + " available (" + memory.availableSource() + ")" + (memory.onOom().isEmpty() ? "" : "; "
                + memory.onOom()) + " (fewer workers or a lower drover.memory.hard-limit keep it apart)");
    }

    /**
     * How many JVMs a reload may run beside drover.workers, counted as for recycles (old workers that drain, most
     * for a few ms, aside): the canary, then, once it serves, reload-surge replacements of the other old workers.
     */
    public static int reloadPeakExtra(Settings settings) {
        int others = settings.workers() - 1;
        int surge = settings.recycle().reloadSurge();
        return Math.max(1, surge == RecycleLimits.RELOAD_SURGE_ALL ? others : Math.min(surge, others));
    }

    /** As duringRecycles, for a reload's surge (reloadPeakExtra), when it is above max-surge's. */
    static Optional<String> duringReloads(Settings settings, MachineMemory memory, PerWorker perWorker) {
        int extra = reloadPeakExtra(settings);
        long hard = settings.memory().hardLimit();
        double needed = (double) (settings.workers() + extra) * perWorker.bytes() + MASTER;
        if (hard <= 0 || extra <= settings.recycle().maxSurge() || needed <= memory.available()) {
            return Optional.empty();
        }
        return Optional.of("drover.reload-surge = " + settings.recycle().reloadSurgeLabel() + " ("
                + settings.origin("reload-surge") + "): during reloads, once the canary serves, up to " + extra
                + " JVM(s) more than drover.workers (the replacements of the old workers boot while these serve): (" + settings.workers() + " + " + extra + ") x " + Sizes.human(hard) + " + ~"
                + Sizes.human(MASTER) + " = " + Sizes.human((long) Math.min(needed, Long.MAX_VALUE)) + ", above the "
                + Sizes.human(memory.available()) + " available (" + memory.availableSource() + ")"
                + (memory.onOom().isEmpty() ? "" : "; " + memory.onOom()) + " (drover.reload-surge = "
                + Math.max(1, fitting(settings, memory, perWorker)) + " keeps a reload within it)");
    }

    /** How many JVMs beside drover.workers the available memory holds (0 if none). */
    private static long fitting(Settings settings, MachineMemory memory, PerWorker perWorker) {
        return Math.max(0, (memory.available() - MASTER) / perWorker.bytes() - settings.workers());
    }

    /**
     * The heap limit a worker JVM gets (its -Xmx, or the JVM's default share of {@code machineTotal}) plus what it
     * needs beside the heap, when that is above drover.memory.hard-limit. The heap then is no ceiling of its own: G1
     * grows it, and RSS, up to -Xmx under garbage alone, and the worker is recycled or killed for memory it would
     * have given back at the next collection.
     */
    static Optional<String> heapAboveHardLimit(Settings settings, long machineTotal) {
        long hard = settings.memory().hardLimit();
        List<String> options = settings.workerJvmOptions();
        OptionalLong xmx = WorkerMemory.maxHeap(options);
        long heap = xmx.orElse((long) (machineTotal * WorkerMemory.maxRamPercent(options) / 100));
        if (hard <= 0 || heap + WorkerMemory.NON_HEAP <= hard) {
            return Optional.empty();
        }
        String what = xmx.isPresent() ? "-Xmx" + Sizes.jvm(heap) + " in drover.worker-jvm-options ("
                + settings.origin("worker-jvm-options") + ")" : "no -Xmx in drover.worker-jvm-options: the JVM's "
                + "default heap limit is " + Sizes.human(heap);
        long fits = Math.max(hard - WorkerMemory.NON_HEAP, WorkerMemory.MIB);
        return Optional.of(what + ", plus ~" + Sizes.human(WorkerMemory.NON_HEAP) + " a JVM needs beside its heap, "
                + "is above drover.memory.hard-limit = " + Sizes.human(hard) + " (" + settings.origin(
                "memory.hard-limit") + "): the heap may grow past the limit under garbage alone, and workers are "
                + "recycled for memory a collection would have freed; give the workers -Xmx" + Sizes.jvm(fits
                / WorkerMemory.MIB * WorkerMemory.MIB) + " or less (hard limit - ~" + Sizes.human(
                WorkerMemory.NON_HEAP) + "), or raise the hard limit");
    }

    /** What one worker may come to, and how that was worked out. */
    record PerWorker(long bytes, String why) {
    }

    static PerWorker perWorker(Settings settings, MachineMemory memory) {
        return perWorker(settings.memory().hardLimit(), settings.origin("memory.hard-limit"),
                settings.workerJvmOptions(), memory.total());
    }

    /** As above, from the parts (workers = auto is worked out before the Settings exist). */
    static PerWorker perWorker(long hard, String hardOrigin, List<String> options, long machineTotal) {
        if (hard > 0) {
            return new PerWorker(hard, "drover.memory.hard-limit, " + hardOrigin);
        }
        String nonHeap = " + ~" + Sizes.human(WorkerMemory.BASE) + " outside the heap";
        Optional<Long> xmx = WorkerMemory.maxHeap(options).stream().boxed().findFirst();
        if (xmx.isPresent()) {
            return new PerWorker(xmx.get() + WorkerMemory.BASE, "-Xmx" + Sizes.jvm(xmx.get())
                    + " from drover.worker-jvm-options" + nonHeap);
        }
        double percent = WorkerMemory.maxRamPercent(options);
        long heap = (long) (machineTotal * percent / 100);
        String share = percent == Math.rint(percent) ? Long.toString((long) percent) : Double.toString(percent);
        return new PerWorker(heap + WorkerMemory.BASE, "no -Xmx in drover.worker-jvm-options: the JVM's default heap "
                + "limit, " + share + " % of " + Sizes.human(machineTotal) + nonHeap);
    }
}
