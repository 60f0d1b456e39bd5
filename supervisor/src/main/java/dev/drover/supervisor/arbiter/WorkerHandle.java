package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.leaks.MemorySeries;
import dev.drover.supervisor.os.Listener;
import dev.drover.supervisor.os.WorkerOutput;
import dev.drover.supervisor.policy.RecyclePolicy;
import dev.drover.supervisor.policy.RecycleReason;
import io.netty.channel.Channel;
import java.nio.file.Path;
import java.util.List;

/**
 * The master's view of one worker JVM (the worker's own code is dev.drover.worker.runtime.Worker): its identity,
 * phase, latest readings, limits and deadlines. Owned by the arbiter thread; nothing else reads or writes it.
 */
final class WorkerHandle {

    final int id;
    final int generation;
    final Process process;
    final long pid;
    final String secret;
    final long spawnedAt;
    final RecyclePolicy.Limits limits;
    /** The listening sockets of its generation, handed over at HELLO. */
    final List<Listener> listeners;
    WorkerOutput output;
    /** Spawned with the generation's AppCDS archive. */
    boolean withArchive;

    WorkerState state = WorkerState.BOOTING;
    Channel link;
    long readyAt = -1;
    /** Last READY or STATS; silence is measured from here. */
    long lastReportAt;
    /** When the master sends SIGKILL if the worker is still there; -1 = no deadline. */
    long killAt = -1;
    boolean killSent;

    /** Why this worker is being replaced, once it is; null while it is not. */
    RecycleReason recycleReason;
    long recycleMarkedAt;
    /** The worker booting to take this one's place (planned recycles), and the other way round. */
    WorkerHandle replacement;
    WorkerHandle replaces;
    /** Since when the memory reading has been above the soft limit; -1 = it is not. */
    long overSoftSince = -1;

    long requests;
    long inflight;
    long connections;
    long loopStallMs;
    long gcMs;
    long heapUsed;
    long rssBytes;
    long pssBytes;
    long ussBytes;
    long rollupReadAt = Long.MIN_VALUE;
    /** Its memory over its life, for a leak report. */
    final MemorySeries series = new MemorySeries(MemorySeries.DEFAULT_PERIOD_MS);
    /** The log's explanation of its recycle, for the leak report. */
    String recycleWhy = "";
    /** Where it was told to write its leak evidence (memory recycles). */
    Path evidenceFile;

    WorkerHandle(int id, int generation, List<Listener> listeners, Process process, String secret, long spawnedAt,
                 RecyclePolicy.Limits limits) {
        this.id = id;
        this.generation = generation;
        this.listeners = listeners;
        this.process = process;
        this.pid = process.pid();
        this.secret = secret;
        this.spawnedAt = spawnedAt;
        this.limits = limits;
        this.lastReportAt = spawnedAt;
    }

    /** How every log line names a worker: {@code worker 2 (pid 41872, gen 3)}. */
    @Override
    public String toString() {
        return "worker " + id + " (pid " + pid + ", gen " + generation + ")";
    }
}
