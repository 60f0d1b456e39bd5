package dev.drover.supervisor.metrics;

/**
 * Where the arbiter leaves its latest {@link Snapshot} and the scrape, health and ctl threads take it: a volatile
 * reference, so readers never wait for the arbiter and the arbiter never waits for them.
 */
public final class SnapshotBoard {

    private volatile Snapshot latest;

    public void publish(Snapshot snapshot) {
        latest = snapshot;
    }

    /** The latest snapshot, or null before the arbiter's first turn. */
    public Snapshot latest() {
        return latest;
    }
}
