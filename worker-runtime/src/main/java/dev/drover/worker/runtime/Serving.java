package dev.drover.worker.runtime;

import dev.drover.link.RequestTimes;

/**
 * How a worker serves, as far as its reports and its drain need to know: Drover's own HTTP server in a native
 * worker ({@link NativeServing}), the app's Tomcat or Jetty seen through the agent in a foreign one
 * ({@link ForeignServing}). {@link WorkerLifecycle} asks the questions; it never learns which kind it has.
 */
interface Serving {

    /** Requests answered (native) or begun (foreign) since the worker started serving. */
    long requests();

    /** Requests received and not yet answered. */
    int inflight();

    /** Open connections, or -1 when the server does not tell. */
    int connections();

    /** Milliseconds since the slowest of Drover's event loops last checked in; 0 where none of them serves. */
    long loopStallMillis();

    /** Age in ms of the oldest request in flight (0 when none is), or -1 when this kind of worker does not tell. */
    long requestStallMillis();

    /** Request durations and status classes, or null where they are not measured (RequestTimes.ENABLED false). */
    default RequestTimes requestTimes() {
        return null;
    }

    /** Runs {@code action} once when the {@code count}-th request is reached; called before the first accept. */
    void notifyAtRequest(long count, Runnable action);

    /**
     * The requests in flight now (method, path without query, age), or null when this kind of worker cannot tell.
     * Any thread.
     */
    java.util.List<InFlightRequest> inflightRequests();

    /**
     * Closes this worker's copies of the listening sockets (the siblings keep accepting from the shared queue) and
     * runs {@code then} once they are closed, on any thread; the open connections are served as before.
     */
    void stopAccepting(Runnable then);

    /**
     * Stops accepting, lets what is in flight finish (answered with {@code Connection: close}), closes connections
     * with nothing in flight after {@code idleGraceMs}, and runs {@code whenIdle} once, on any thread, when nothing
     * is left.
     */
    void drain(long idleGraceMs, Runnable whenIdle);
}
