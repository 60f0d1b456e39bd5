package dev.drover.worker.runtime;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

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
        EmbeddedChannel channel = new EmbeddedChannel();
        try {
            ConnectionTracker privateTracker = new ConnectionTracker();
            channel.pipeline().addLast(new ConnectionLimit(limits.maxConnections(), java.util.List.of()));
            HttpService.addHttp(channel.pipeline(), limits, privateTracker.newHandler(), new LastResortHandler());
            channel.writeInbound(channel.alloc().directBuffer(REQUEST.length).writeBytes(REQUEST));
            channel.runPendingTasks();
            int status = -1;
            Object out;
            while ((out = channel.readOutbound()) != null) {
                if (status < 0 && out instanceof ByteBuf bytes) {
                    status = Warmup.statusOf(bytes);
                }
                ReferenceCountUtil.release(out);
            }
            return status;
        } finally {
            channel.finishAndReleaseAll();
        }
    }
}
