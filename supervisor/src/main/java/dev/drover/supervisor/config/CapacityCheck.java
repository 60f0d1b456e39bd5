package dev.drover.supervisor.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Warns (never refuses) about settings that are probably mistakes: more workers than the machine's memory can
 * hold. A warning names the key, the value, its origin and the arithmetic, so the operator can judge it.
 */
public final class CapacityCheck {

    private CapacityCheck() {
    }

    /** The warnings for this machine; none if its memory cannot be read. */
    public static List<String> warnings(Settings settings) {
        return MachineMemory.read().map(memory -> warnings(settings, memory)).orElse(List.of());
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
        }
        return warnings;
    }

    /** What one worker may come to, and how that was worked out. */
    record PerWorker(long bytes, String why) {
    }

    static PerWorker perWorker(Settings settings, MachineMemory memory) {
        long hard = settings.memory().hardLimit();
        if (hard > 0) {
            return new PerWorker(hard, "drover.memory.hard-limit, " + settings.origin("memory.hard-limit"));
        }
        List<String> options = settings.workerJvmOptions();
        String nonHeap = " + ~" + Sizes.human(WorkerMemory.BASE) + " outside the heap";
        Optional<Long> xmx = WorkerMemory.maxHeap(options).stream().boxed().findFirst();
        if (xmx.isPresent()) {
            return new PerWorker(xmx.get() + WorkerMemory.BASE, "-Xmx" + Sizes.jvm(xmx.get())
                    + " from drover.worker-jvm-options" + nonHeap);
        }
        double percent = WorkerMemory.maxRamPercent(options);
        long heap = (long) (memory.total() * percent / 100);
        String share = percent == Math.rint(percent) ? Long.toString((long) percent) : Double.toString(percent);
        return new PerWorker(heap + WorkerMemory.BASE, "no -Xmx in drover.worker-jvm-options: the JVM's default heap "
                + "limit, " + share + " % of " + Sizes.human(memory.total()) + nonHeap);
    }
}
