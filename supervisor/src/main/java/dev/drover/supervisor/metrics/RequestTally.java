package dev.drover.supervisor.metrics;

import dev.drover.link.RequestTimes;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Merges the workers' cumulative request counts per slot so that a slot's counters only grow: a worker's last
 * counts are kept for its slot when it exits, and its replacement's add to them. Requests a worker answered after
 * its last STATS are not counted (at most about a second of its traffic). Arbiter thread only.
 */
public final class RequestTally {

    private final Map<Integer, RequestTimes.Counts> retired = new HashMap<>();
    private final Map<Long, Live> live = new HashMap<>();

    private record Live(int slot, RequestTimes.Counts counts) {
    }

    /** A STATS from worker {@code pid} in {@code slot}; {@code counts} null when it measures nothing. */
    public void record(int slot, long pid, RequestTimes.Counts counts) {
        if (counts != null) {
            live.put(pid, new Live(slot, counts));
        }
    }

    /** Worker {@code pid} exited: its counts stay with its slot. */
    public void retire(long pid) {
        Live gone = live.remove(pid);
        if (gone != null) {
            retired.merge(gone.slot(), gone.counts(), RequestTimes.Counts::plus);
        }
    }

    /** Per slot, in slot order: everything its workers have reported. */
    public Map<Integer, RequestTimes.Counts> bySlot() {
        Map<Integer, RequestTimes.Counts> merged = new TreeMap<>(retired);
        live.values().forEach(l -> merged.merge(l.slot(), l.counts(), RequestTimes.Counts::plus));
        return merged;
    }
}
