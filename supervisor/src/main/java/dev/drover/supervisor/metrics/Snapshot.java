package dev.drover.supervisor.metrics;

import dev.drover.link.RequestTimes;
import dev.drover.supervisor.os.Listener;
import java.util.List;
import java.util.Map;

/**
 * What the master looks like at one turn of its loop, immutable: the arbiter publishes one each tick and on every
 * change ({@link SnapshotBoard}), and /metrics, /healthz, /readyz and `drover ctl health` read only this.
 *
 * @param takenAt   the arbiter's clock (System.nanoTime) when it was taken
 * @param recycles  per RecycleReason label, every reason present (0 when none happened)
 * @param reloads   per outcome: complete, abandoned, refused
 * @param requests  per slot: request durations and status classes of every worker that held it, merged
 */
public record Snapshot(long takenAt, boolean stopping, boolean paused, int wanted, int readyMinWorkers,
                       int generation, List<Worker> workers, Map<String, Long> recycles, Map<String, Long> reloads,
                       long failedBoots, long leakReports, Distribution boot, Distribution drain,
                       Map<Integer, RequestTimes.Counts> requests, List<Socket> sockets) {

    /** One worker process. {@code pssBytes} and {@code heapLiveBytes}: -1 until first read. */
    public record Worker(int slot, long pid, int generation, String state, long rssBytes, long pssBytes,
                         long heapLiveBytes, long requests, double ageSeconds) {
    }

    /**
     * A listening socket of the service, as the log names it, and the master's own: held, not its fd's number, so
     * that a reader can tell whether a reload has closed it since ({@link dev.drover.supervisor.os.ListenQueue}).
     */
    public record Socket(String address, String kind, Listener listener) {
    }

    public long serving() {
        return workers.stream().filter(w -> w.state().equals("serving")).count();
    }
}
