package dev.drover.agent;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What the worker's link side (dev.drover.worker.runtime.ForeignWorker, loaded by the agent in a class loader of
 * its own) sees of the app's server. This class is on the boot class path, so every class loader sees the same one.
 * JDK types only. The contract of issue 12; the bodies are the agent's to fill in.
 */
public final class ServerView {
    private static final ServerState STATE = ServerState.INSTANCE;

    private ServerView() {
    }

    /**
     * Completes when the app has finished starting: Spring Boot's {@code SpringApplication.run} returned, or, without
     * Spring Boot, the server's start returned. Its value is one line for the log (say "Tomcat 10.1.48 (Spring Boot)
     * on the inherited socket"). Completes exceptionally with {@link ServerRefusedException} when the app's server
     * cannot be driven (a second connector, the socket not adopted).
     */
    public static CompletableFuture<String> ready() {
        return STATE.readiness.future();
    }

    /** Opens the accept gate: the server's acceptors start taking connections from the shared socket. */
    public static void startAccepting() {
        STATE.startAccepting();
    }

    /**
     * The warm-up: runs {@code count} requests ({@code requests}, "METHOD /path", taken in turn) through the app's
     * server over private loopback connections, never the shared socket, one at a time, and returns when they are
     * answered, one is not answered in time, or {@code timeLimitMillis} has passed. Call it after {@link #ready()}
     * completed and before {@link #startAccepting()}: requests that begin in between are not counted in
     * {@link #requests()} (nor toward {@link #notifyAtRequest}). Skipped, with the reason in the report, when the
     * server's version lacks what it needs.
     */
    public static WarmUpReport warmUp(int count, List<String> requests, long timeLimitMillis) {
        return STATE.warmUp(count, requests, timeLimitMillis);
    }

    /** Requests the server has begun since start. */
    public static long requests() {
        return STATE.requests.requests();
    }

    /**
     * From now on, {@code listener} is told of every request counted in {@link #requests()} as it completes, on the
     * request's thread: it must be quick.
     */
    public static void timeRequests(RequestEnded listener) {
        STATE.requests.timeRequests(listener);
    }

    /**
     * One request completed: its duration (nanoseconds, begin to completion) and its response status, 0 when the
     * server did not tell it. An interface of the agent's jar rather than a JDK type: no boxing on the request path,
     * and the jar is on the boot class path like this class.
     */
    @FunctionalInterface
    public interface RequestEnded {
        void ended(long nanos, int status);
    }

    /** Requests begun and not yet completed (asynchronous ones until their completion). */
    public static int inflight() {
        return STATE.requests.inflight();
    }

    /** Age in ms of the oldest request in flight; 0 when none is. */
    public static long oldestInflightMillis() {
        return STATE.requests.oldestInflightMillis();
    }

    /**
     * The requests in flight, each {method, path without its query string, age in ms}, or null when the server does
     * not tell (Jetty: its hook sees no request). Read at a memory ceiling or a memory recycle, never per request.
     */
    public static List<String[]> inflightRequests() {
        return TomcatRequests.inflight(); // null unless Tomcat's members were looked up
    }

    /** Open connections, or -1 when the server does not tell. */
    public static int connections() {
        try {
            return STATE.connections();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** Runs {@code action} once, on the request's thread, when {@link #requests()} reaches {@code count}. */
    public static void notifyAtRequest(long count, Runnable action) {
        STATE.requests.notifyAt(count, action);
    }

    /**
     * Stops accepting (without taking a connection from the shared queue), makes every keep-alive connection close
     * after its next response, and completes once no request is in flight. Idempotent; safe before
     * {@link #startAccepting()} (then nothing was ever accepted).
     */
    public static CompletableFuture<Void> drain() {
        return STATE.drain(ServerState.GRACE_NANOS);
    }

    /**
     * {@link #drain()} with a grace of its own for a last request on a keep-alive connection: the memory ceiling's
     * is a few milliseconds. The first drain's grace stands; a later call returns the same future.
     */
    public static CompletableFuture<Void> drain(long graceMillis) {
        return STATE.drain(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(graceMillis));
    }
}
