package dev.drover.worker.api;

import io.netty.channel.ChannelHandler;

/**
 * What an application implements to run under Drover: one instance per worker JVM.
 * The worker runtime owns the sockets, the HTTP/1.1 codec, keep-alive and draining; the app owns request handling.
 */
public interface DroverApp {

    /**
     * Called once in each worker before it accepts connections. Throwing here means the worker cannot boot:
     * it exits with code 3 and the master reports the error.
     */
    default void start(WorkerContext context) throws Exception {
    }

    /**
     * A handler for one connection. It receives {@link io.netty.handler.codec.http.FullHttpRequest}s and writes one
     * {@link io.netty.handler.codec.http.FullHttpResponse} for each, in order, from any thread and at any time.
     * The runtime sets keep-alive headers and closes the connection when it must. Return a new instance per call
     * unless the handler is {@code @Sharable}.
     */
    ChannelHandler newRequestHandler();

    /** Called once after the worker has drained, before its JVM exits. */
    default void stop() {
    }
}
