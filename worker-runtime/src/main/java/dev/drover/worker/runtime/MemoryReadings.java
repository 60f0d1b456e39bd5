package dev.drover.worker.runtime;

import io.netty.util.internal.PlatformDependent;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ClassLoadingMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.lang.management.ThreadMXBean;
import java.util.List;

/**
 * Where a worker's memory is, in the terms that tell leaks apart: live heap (after the last GC), metaspace (committed) and
 * loaded classes, direct and mapped buffers (the JDK's and Netty's own), threads. Each reading is a few MXBean
 * calls (microseconds), so every STATS carries one and the master keeps the series (leak reports).
 */
final class MemoryReadings {

    /** One reading, bytes (classes and threads: counts); -1 where the JVM cannot say. */
    record Reading(long heapLive, long heapUsed, long heapCommitted, long metaspace, long classes, long direct,
                   long threads) {
    }

    private final List<MemoryPoolMXBean> heapPools;
    private final MemoryPoolMXBean metaspacePool;
    private final List<BufferPoolMXBean> bufferPools;
    private final ClassLoadingMXBean classes = ManagementFactory.getClassLoadingMXBean();
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();

    MemoryReadings() {
        List<MemoryPoolMXBean> pools = ManagementFactory.getMemoryPoolMXBeans();
        heapPools = pools.stream().filter(p -> p.getType() == MemoryType.HEAP).toList();
        metaspacePool = pools.stream().filter(p -> p.getName().equals("Metaspace")).findFirst().orElse(null);
        bufferPools = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class);
    }

    Reading read() {
        long live = 0;
        long used = 0;
        long committed = 0;
        for (MemoryPoolMXBean pool : heapPools) {
            MemoryUsage now = pool.getUsage();
            used += now.getUsed();
            committed += now.getCommitted();
            // Young pools: what survived their last collection (eden empties at every GC). The old generation: what
            // it holds now, since its own collections are rare (with the serial GC, only full GCs update its
            // after-GC figure) and what a leak holds is promoted into it. So the sum climbs with a leak and stays
            // flat with garbage, apart from promoted garbage that waits for the next full GC.
            MemoryUsage afterGc = pool.getCollectionUsage(); // null where the pool does not track it
            boolean old = pool.getName().contains("Old") || pool.getName().contains("Tenured");
            live += old || afterGc == null ? now.getUsed() : afterGc.getUsed();
        }
        long direct = 0;
        for (BufferPoolMXBean pool : bufferPools) {
            direct += Math.max(0, pool.getMemoryUsed()); // "direct" and "mapped"
        }
        // Netty allocates most of its direct memory itself, outside the JDK's accounting. This is Drover's Netty: in a
        // foreign worker, Drover's copy in its own class loader (the link's few buffers), never the app's Netty,
        // which that loader cannot see; the app's NIO buffers are in the JDK's pools above.
        direct += Math.max(0, PlatformDependent.usedDirectMemory());
        // Metaspace as committed, not used: each class loader gets metaspace chunks of its own, so with many small
        // loaders (a class-loader leak) committed runs far ahead of used, and committed is what the RSS holds.
        return new Reading(live, used, committed, metaspacePool == null ? -1 : metaspacePool.getUsage().getCommitted(),
                classes.getLoadedClassCount(), direct, threads.getThreadCount());
    }
}
