package dev.drover.supervisor.metrics;

import dev.drover.link.RequestTimes;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The master's own counts for /metrics that the worker table does not keep: boot and drain durations, reloads by
 * outcome, failed boots, and the workers' request counts per slot. Arbiter thread only; copied into each Snapshot.
 */
public final class MasterTallies {

    public static final double[] BOOT_BOUNDS = {0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120};
    public static final double[] DRAIN_BOUNDS = {0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120};
    /** How a reload ends: its new generation serves, its canary failed, or its configuration was refused. */
    public static final String[] RELOAD_OUTCOMES = {"complete", "abandoned", "refused"};

    private Distribution boot = Distribution.empty(BOOT_BOUNDS);
    private Distribution drain = Distribution.empty(DRAIN_BOUNDS);
    private final Map<String, Long> reloads = new LinkedHashMap<>();
    private long failedBoots;
    private final RequestTally requests = new RequestTally();
    /** Per worker pid: its live heap after the last GC, from its latest STATS. */
    private final Map<Long, Long> heapLive = new HashMap<>();

    public MasterTallies() {
        for (String outcome : RELOAD_OUTCOMES) {
            reloads.put(outcome, 0L);
        }
    }

    /** Spawn to READY. */
    public void booted(double seconds) {
        boot = boot.plus(seconds);
    }

    /** DRAIN sent to exit. */
    public void drained(double seconds) {
        drain = drain.plus(seconds);
    }

    public void reload(String outcome) {
        if (!reloads.containsKey(outcome)) {
            throw new IllegalArgumentException("reload outcome " + outcome + " (expected one of: "
                    + String.join(", ", RELOAD_OUTCOMES) + ")");
        }
        reloads.merge(outcome, 1L, Long::sum);
    }

    /** A worker that exited (or was killed) before it was READY. */
    public void failedBoot() {
        failedBoots++;
    }

    /** A worker's STATS: its request counts ({@code counts} null when it measures none) and live heap (-1: none). */
    public void workerStats(int slot, long pid, RequestTimes.Counts counts, long heapLiveBytes) {
        requests.record(slot, pid, counts);
        heapLive.put(pid, heapLiveBytes);
    }

    /** A worker exited: its request counts stay with its slot. */
    public void workerExited(long pid) {
        requests.retire(pid);
        heapLive.remove(pid);
    }

    public long heapLive(long pid) {
        return heapLive.getOrDefault(pid, -1L);
    }

    public RequestTally requests() {
        return requests;
    }

    public Distribution boot() {
        return boot;
    }

    public Distribution drain() {
        return drain;
    }

    public Map<String, Long> reloads() {
        return Map.copyOf(reloads);
    }

    public long failedBoots() {
        return failedBoots;
    }
}
