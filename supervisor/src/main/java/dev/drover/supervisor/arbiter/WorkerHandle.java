package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.os.WorkerOutput;
import io.netty.channel.Channel;

/**
 * The master's view of one worker JVM (the worker's own code is dev.drover.worker.runtime.Worker): its identity,
 * phase, latest readings and deadlines. Owned by the arbiter thread; nothing else reads or writes it.
 */
final class WorkerHandle {

    final int id;
    final int generation;
    final Process process;
    final long pid;
    final String secret;
    final long spawnedAt;
    WorkerOutput output;

    WorkerState state = WorkerState.BOOTING;
    Channel link;
    long readyAt = -1;
    /** When the master gives up waiting for a draining worker and sends SIGKILL; -1 = not draining. */
    long killAt = -1;
    boolean killed;

    long requests;
    long inflight;
    long connections;
    long loopStallMs;
    long gcMs;
    long heapUsed;
    long rssBytes;
    long pssBytes;
    long pssReadAt = Long.MIN_VALUE;

    WorkerHandle(int id, int generation, Process process, String secret, long spawnedAt) {
        this.id = id;
        this.generation = generation;
        this.process = process;
        this.pid = process.pid();
        this.secret = secret;
        this.spawnedAt = spawnedAt;
    }

    boolean live() {
        return state != WorkerState.DRAINING;
    }

    /** How every log line names a worker: {@code worker 2 (pid 41872, gen 3)}. */
    @Override
    public String toString() {
        return "worker " + id + " (pid " + pid + ", gen " + generation + ")";
    }
}
