package dev.drover.worker.runtime;

import dev.drover.agent.ServerView;
import dev.drover.link.RequestTimes;

/**
 * {@link Serving} by the app's own server (Tomcat or Jetty), through the agent's {@link ServerView}. Only a foreign
 * worker loads this class: ServerView is on the boot class path there, and nowhere in a native worker.
 */
final class ForeignServing implements Serving {

    private static final LazyLogging.Log log = LazyLogging.Log.of(ForeignServing.class);
    private final RequestTimes times = RequestTimes.ENABLED ? new RequestTimes() : null;

    ForeignServing() {
        if (times != null) {
            ServerView.timeRequests(times::record);
        }
    }

    @Override
    public long requests() {
        return ServerView.requests();
    }

    @Override
    public int inflight() {
        return ServerView.inflight();
    }

    @Override
    public int connections() {
        return ServerView.connections();
    }

    /** The app's server runs on its own threads, not on event loops of Drover's: a stuck request shows below. */
    @Override
    public long loopStallMillis() {
        return 0;
    }

    @Override
    public long requestStallMillis() {
        return ServerView.oldestInflightMillis();
    }

    /**
     * The agent measures each request from its begin to its completion and reads the status the server answered
     * with (Tomcat's coyote Response, Jetty's Response, when the request completes).
     */
    @Override
    public RequestTimes requestTimes() {
        return times;
    }

    @Override
    public void notifyAtRequest(long count, Runnable action) {
        ServerView.notifyAtRequest(count, action);
    }

    /** Tomcat's, read from its request objects now; null for Jetty, whose hook sees no request. */
    @Override
    public java.util.List<InFlightRequest> inflightRequests() {
        java.util.List<String[]> seen = ServerView.inflightRequests();
        if (seen == null) {
            return null;
        }
        return seen.stream().map(r -> new InFlightRequest(r[0], InFlightRequest.pathOf(r[1]), Long.parseLong(r[2])))
                .sorted((a, b) -> Long.compare(b.ageMs(), a.ageMs())).toList();
    }

    /**
     * The agent stops accepting only as the first step of its drain, which also makes every keep-alive connection
     * close after its next response: so this starts the drain (with the usual grace), and a later {@link #drain}
     * joins it.
     */
    @Override
    public void stopAccepting(Runnable then) {
        ServerView.drain();
        then.run();
    }

    @Override
    public void drain(long idleGraceMs, Runnable whenIdle) {
        ServerView.drain(idleGraceMs).whenComplete((done, failed) -> {
            if (failed != null) {
                log.warn("the app's server did not drain cleanly ({}); exiting all the same", failed.toString());
            }
            whenIdle.run();
        });
    }
}
