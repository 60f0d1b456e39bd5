package dev.drover.worker.runtime;

import dev.drover.link.RequestTimes;

/** {@link Serving} by Drover's own HTTP server: the native worker's listeners, connections and event loops. */
final class NativeServing implements Serving {

    private final HttpService http;
    private final ConnectionTracker tracker;
    private final LoopHeartbeats heartbeats;

    NativeServing(HttpService http, ConnectionTracker tracker, LoopHeartbeats heartbeats) {
        this.http = http;
        this.tracker = tracker;
        this.heartbeats = heartbeats;
    }

    @Override
    public long requests() {
        return tracker.requests();
    }

    @Override
    public int inflight() {
        return tracker.inflight();
    }

    @Override
    public int connections() {
        return tracker.connections();
    }

    @Override
    public long loopStallMillis() {
        return heartbeats.stallMillis();
    }

    /** Not measured here: a native worker's hang shows as an event loop that stops checking in (loop_stall_ms). */
    @Override
    public long requestStallMillis() {
        return -1;
    }

    @Override
    public RequestTimes requestTimes() {
        return RequestTimes.ENABLED ? tracker.times() : null;
    }

    @Override
    public void notifyAtRequest(long count, Runnable action) {
        tracker.notifyAtRequest(count, action);
    }

    @Override
    public java.util.List<InFlightRequest> inflightRequests() {
        return tracker.inflightRequests();
    }

    @Override
    public void stopAccepting(Runnable then) {
        http.stopAccepting(then);
    }

    /**
     * Closes this worker's copies of the listeners, then the connections the HTTP way (ConnectionTracker). Closing
     * a listener twice is harmless: the second close completes at once.
     */
    @Override
    public void drain(long idleGraceMs, Runnable whenIdle) {
        http.stopAccepting(() -> tracker.drain(idleGraceMs, whenIdle));
    }
}
