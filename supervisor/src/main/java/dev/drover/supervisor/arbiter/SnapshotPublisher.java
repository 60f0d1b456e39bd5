package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.metrics.MasterTallies;
import dev.drover.supervisor.metrics.Snapshot;
import dev.drover.supervisor.metrics.SnapshotBoard;
import dev.drover.supervisor.os.Listener;
import dev.drover.supervisor.policy.RecycleReason;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Copies what /metrics and the health checks need out of the arbiter's state into an immutable {@link Snapshot}
 * and publishes it on the {@link SnapshotBoard}: on the arbiter thread, each tick and after each change, so the
 * readers never touch the arbiter's own objects. Costs a few objects per worker.
 */
final class SnapshotPublisher {

    private final Workers workers;
    private final Generations generations;
    private final Shutdown shutdown;
    private final Leaks leaks;
    private final MasterTallies tallies;
    private final SnapshotBoard board = new SnapshotBoard();

    SnapshotPublisher(Workers workers, Generations generations, Shutdown shutdown, Leaks leaks, MasterTallies tallies) {
        this.workers = workers;
        this.generations = generations;
        this.shutdown = shutdown;
        this.leaks = leaks;
        this.tallies = tallies;
    }

    SnapshotBoard board() {
        return board;
    }

    void publish(long now) {
        Map<String, Long> recycles = new LinkedHashMap<>();
        for (RecycleReason reason : RecycleReason.values()) {
            recycles.put(reason.label(), workers.recycles(reason));
        }
        board.publish(new Snapshot(now, shutdown.underway(), generations.paused(), generations.wanted(),
                generations.current().settings().metrics().readyMinWorkers(), generations.current().number(),
                rows(now), recycles, tallies.reloads(), tallies.failedBoots(), leaks.written(), tallies.boot(),
                tallies.drain(), tallies.requests().bySlot(), sockets()));
    }

    private List<Snapshot.Worker> rows(long now) {
        List<Snapshot.Worker> rows = new ArrayList<>(workers.size());
        for (WorkerHandle w : workers.all()) {
            rows.add(new Snapshot.Worker(w.id(), w.pid(), w.generation(), w.state().label(), w.rssBytes(),
                    w.rollupReadAt() == Long.MIN_VALUE ? -1 : w.pssBytes(), tallies.heapLive(w.pid()), w.requests(),
                    w.ageMs(now) / 1000.0));
        }
        return List.copyOf(rows);
    }

    /** Every listening socket a generation in use holds, once each. */
    private List<Snapshot.Socket> sockets() {
        Map<String, Snapshot.Socket> sockets = new LinkedHashMap<>();
        List<Listener> all = new ArrayList<>(generations.current().listeners());
        workers.all().forEach(w -> all.addAll(w.listeners()));
        for (Listener l : all) {
            String address = l.display().replace("http://", "");
            sockets.putIfAbsent(address, new Snapshot.Socket(address, l.kind(), l));
        }
        return List.copyOf(sockets.values());
    }
}
