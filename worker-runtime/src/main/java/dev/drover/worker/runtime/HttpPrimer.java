package dev.drover.worker.runtime;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Takes the first request's one-time costs off it: during the boot, one request goes through the worker's own
 * pipeline minus the app (codec, aggregator, connection tracking, the last-resort 404) on an EmbeddedChannel, so the
 * classes of that path are loaded and initialised and Netty's handler annotations (@Sharable, @Skip) are parsed
 * before READY, off the critical path, rather than while a client waits. Nothing reaches the app, the network or
 * the worker's own request counts (a private tracker).
 */
final class HttpPrimer {

    private static final byte[] REQUEST = ("GET /drover-primer HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);

    private HttpPrimer() {
    }

    /** Runs the request; returns the answer's status code (404 expected), or -1 if none came. */
    static int prime(HttpLimits limits) {
        return run(limits, 1);
    }

    /**
     * A standby JVM's wait, put to use: {@code times} requests (or until {@code limitMs} have passed) through the same
     * pipeline, {@link #PER_CHANNEL} on each channel as a keep-alive client sends them, so that the JIT has compiled
     * the codec's, the pipeline's and a new connection's hot paths before the JVM is adopted (a standby waits for
     * minutes; a new worker's first seconds under load are slow mostly because that code is still interpreted).
     * Stops early once {@code stop} says so (the master adopted the standby meanwhile). Returns how many ran.
     */
    static int primeRepeatedly(HttpLimits limits, int times, long limitMs, BooleanSupplier stop) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limitMs);
        int done = 0;
        while (done < times && System.nanoTime() - deadline < 0 && !stop.getAsBoolean()) {
            run(limits, PER_CHANNEL);
            done += PER_CHANNEL;
        }
        return done;
    }

    /** Requests per channel in {@link #primeRepeatedly}. */
    static final int PER_CHANNEL = 50;

    /** The request {@code times} times on one channel; returns the first answer's status code, or -1. */
    private static int run(HttpLimits limits, int times) {
        EmbeddedChannel channel = new EmbeddedChannel();
        try {
            ConnectionTracker privateTracker = new ConnectionTracker();
            channel.pipeline().addLast(new ConnectionLimit(limits.maxConnections(), java.util.List.of()));
            HttpService.addHttp(channel.pipeline(), limits, privateTracker.newHandler(), new LastResortHandler());
            int status = -1;
            for (int i = 0; i < times && channel.isOpen(); i++) {
                channel.writeInbound(channel.alloc().directBuffer(REQUEST.length).writeBytes(REQUEST));
                channel.runPendingTasks();
                Object out;
                while ((out = channel.readOutbound()) != null) {
                    if (status < 0 && out instanceof ByteBuf bytes) {
                        status = Warmup.statusOf(bytes);
                    }
                    ReferenceCountUtil.release(out);
                }
            }
            return status;
        } finally {
            channel.finishAndReleaseAll();
        }
    }
}
