package dev.drover.supervisor.config;

import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one worker JVM needs in memory, read from its options: the least it runs in (the floor under
 * memory.soft-limit and memory.hard-limit) and the most its heap may take (for the capacity warning).
 */
public final class WorkerMemory {

    static final long MIB = 1L << 20;
    /**
     * The least a worker runs in. Measured with the sample app (a handful of classes) and the default options: 59-66
     * MB RSS at READY (59 with the AppCDS archive mapped, 66 without) and 64-71 MB after its first 200 requests;
     * that is metaspace, the code cache, the archive, thread stacks, GC structures and the first MB of heap. Any
     * app needs at least this much: a limit below it kills or recycles every worker at READY or soon after.
     */
    static final long BASE = 80 * MIB;
    /**
     * What a worker JVM is expected to take beside its heap, for the warning about -Xmx near the hard limit: the
     * sample app's workers peaked ~75 MiB above -Xmx1g under a fast leak (docs/memory-ceiling.md), and an app with
     * many classes (Spring Boot) needs several times its metaspace and code cache; twice the sample's figure.
     */
    static final long NON_HEAP = 150 * MIB;
    /** The JVM's default MaxRAMPercentage: without -Xmx, the heap may grow to a quarter of the machine's memory. */
    static final int DEFAULT_MAX_RAM_PERCENT = 25;

    /** The least the derived bounds give direct memory and metaspace, whatever the hard limit: see {@link #guards}. */
    static final long MIN_DIRECT = 64 * MIB;
    static final long MIN_METASPACE = 128 * MIB;

    private static final Pattern SIZE = Pattern.compile("(\\d+)([kKmMgGtT]?)");

    private WorkerMemory() {
    }

    /** The least a memory limit may be for workers started with {@code options}. */
    static long floor(List<String> options) {
        long initialHeap = initialHeap(options).orElse(0);
        if (options.contains("-XX:+AlwaysPreTouch") && options.lastIndexOf("-XX:+AlwaysPreTouch")
                > options.lastIndexOf("-XX:-AlwaysPreTouch")) {
            // Every page of the initial heap is written at start, so all of it is resident before READY.
            return BASE + initialHeap;
        }
        // The heap never shrinks below -Xms, and a collector lets it fill before it collects.
        return Math.max(BASE, initialHeap);
    }

    /** Why the floor is what it is, for the message that refuses a limit below it. */
    static String floorReason(List<String> options) {
        String base = "a worker of a minimal app measured 59-66 MB at READY and 64-71 MB after its first requests";
        long floor = floor(options);
        if (floor == BASE) {
            return base;
        }
        String xms = "-Xms" + Sizes.jvm(initialHeap(options).orElse(0)) + " in drover.worker-jvm-options";
        return floor > initialHeap(options).orElse(0)
                ? base + ", plus the " + xms + " that -XX:+AlwaysPreTouch makes resident at start"
                : "the initial heap " + xms + ": the heap never shrinks below it and fills before it is collected";
    }

    /**
     * The JVM's own bounds outside the heap that a hard limit implies, for whichever of them {@code options} leave
     * unset: -XX:MaxDirectMemorySize (the JVM's default is -Xmx: as much again as the heap) and -XX:MaxMetaspaceSize
     * (unbounded by default), each a quarter of the hard limit. A leak of direct buffers or of class loaders then ends
     * in an OutOfMemoryError that names it ("Direct buffer memory", "Metaspace"), recycled as reason oom with a leak
     * report, before it alone can take a worker to the hard limit, where the heap histogram would not show it; a
     * quarter each leaves the heap at least half. The floors keep a low limit from starving a server: Netty's pooled
     * buffers take a few 4 MiB chunks per arena, and a framework app's metaspace runs to tens of MiB.
     */
    public static List<String> guards(long hardLimit, List<String> options) {
        if (hardLimit <= 0) {
            return List.of();
        }
        List<String> guards = new java.util.ArrayList<>();
        if (options.stream().noneMatch(o -> o.startsWith("-XX:MaxDirectMemorySize="))) {
            guards.add("-XX:MaxDirectMemorySize=" + Sizes.jvm(Math.max(hardLimit / 4 / MIB * MIB, MIN_DIRECT)));
        }
        if (options.stream().noneMatch(o -> o.startsWith("-XX:MaxMetaspaceSize="))) {
            guards.add("-XX:MaxMetaspaceSize=" + Sizes.jvm(Math.max(hardLimit / 4 / MIB * MIB, MIN_METASPACE)));
        }
        return guards;
    }

    /** -Xms (or -XX:InitialHeapSize): the last one wins, as in the JVM. */
    static OptionalLong initialHeap(List<String> options) {
        return lastSize(options, "-Xms", "-XX:InitialHeapSize=");
    }

    /** -Xmx (or -XX:MaxHeapSize): the last one wins, as in the JVM. */
    static OptionalLong maxHeap(List<String> options) {
        return lastSize(options, "-Xmx", "-XX:MaxHeapSize=");
    }

    /** -XX:MaxRAMPercentage, the share of the machine the JVM's heap may take when no -Xmx is given. */
    static double maxRamPercent(List<String> options) {
        double percent = DEFAULT_MAX_RAM_PERCENT;
        for (String option : options) {
            if (option.startsWith("-XX:MaxRAMPercentage=")) {
                try {
                    percent = Double.parseDouble(option.substring("-XX:MaxRAMPercentage=".length()));
                } catch (NumberFormatException e) {
                    // the JVM check refuses it with the JVM's own words
                }
            }
        }
        return percent;
    }

    private static OptionalLong lastSize(List<String> options, String... prefixes) {
        OptionalLong size = OptionalLong.empty();
        for (String option : options) {
            for (String prefix : prefixes) {
                if (option.startsWith(prefix)) {
                    OptionalLong parsed = jvmSize(option.substring(prefix.length()));
                    size = parsed.isPresent() ? parsed : size;
                }
            }
        }
        return size;
    }

    /** A size as the JVM writes it: digits and an optional k, m, g or t (either case). */
    static OptionalLong jvmSize(String text) {
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            return OptionalLong.empty();
        }
        int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        try {
            return OptionalLong.of(Math.multiplyExact(Long.parseLong(m.group(1)), 1L << shift));
        } catch (ArithmeticException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
