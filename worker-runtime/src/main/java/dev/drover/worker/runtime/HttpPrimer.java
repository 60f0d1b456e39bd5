package dev.drover.worker.runtime;

import dev.drover.worker.api.DroverApp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
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

    /**
     * The rest of a standby JVM's priming: {@code times} requests (or until {@code limitMs} have passed, or
     * {@code stop} says so) over real TCP connections, {@link #PER_CHANNEL} per keep-alive connection, to a private
     * listener on the loopback interface (port 0: one the kernel picks), served by {@code loops}, the worker's own
     * HTTP event loops, with the worker's pipeline and a handler that answers 200 in place of the app's.
     * {@link #primeRepeatedly} compiles the codec on an EmbeddedChannel; what only real traffic runs (epoll's accept,
     * read and write paths, the pooled buffers, the pipeline as the event loops call it) stayed interpreted until the
     * adopted worker's first requests, which under load then took 137-194 ms each, 58-107 ms with this
     * (docs/BENCHMARKS.md, "Reloads with standby JVMs, second pass"). The listener is closed before this returns:
     * the shared sockets are the only ones an adopted worker listens on. Returns how many requests were answered; a
     * failure ends it (priming is only ever a gain).
     */
    static int primeOverLoopback(EventLoopGroup loops, HttpLimits limits, int times, long limitMs,
                                 BooleanSupplier stop) {
        return primeOverLoopback(loops, limits, times, limitMs, stop, address -> { });
    }

    /** As above; {@code listening} is told the private listener's address (for the tests). */
    static int primeOverLoopback(EventLoopGroup loops, HttpLimits limits, int times, long limitMs, BooleanSupplier stop,
                                 java.util.function.Consumer<InetSocketAddress> listening) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limitMs);
        HttpService http = new HttpService(loops, PRIMING_APP, new ConnectionTracker(), limits);
        int done = 0;
        try {
            http.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            InetSocketAddress address = (InetSocketAddress) http.servers().get(0).localAddress();
            listening.accept(address);
            while (done < times && System.nanoTime() - deadline < 0 && !stop.getAsBoolean()) {
                done += keepAlive(address, Math.min(PER_CHANNEL, times - done));
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("drover worker: could not prime the HTTP path over loopback (going on): " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            CountDownLatch closed = new CountDownLatch(1);
            http.stopAccepting(closed::countDown);
            try {
                closed.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return done;
    }

    /** {@code n} requests on one connection, each answer read to its end; returns how many were answered. */
    private static int keepAlive(InetSocketAddress address, int n) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(address, 5_000);
            socket.setSoTimeout(5_000);
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            for (int i = 0; i < n; i++) {
                out.write(REQUEST);
                out.flush();
                if (!readResponse(in)) {
                    return i;
                }
            }
            return n;
        }
    }

    /** Reads one answer (head, then Content-Length bytes); false if the connection ended first. */
    private static boolean readResponse(InputStream in) throws IOException {
        int contentLength = 0;
        StringBuilder line = new StringBuilder();
        while (true) {
            int c = in.read();
            if (c < 0) {
                return false;
            }
            if (c != '\n') {
                line.append((char) c);
                continue;
            }
            String header = line.toString().strip();
            line.setLength(0);
            if (header.isEmpty()) {
                break;
            }
            int colon = header.indexOf(':');
            if (colon > 0 && header.substring(0, colon).equalsIgnoreCase("content-length")) {
                contentLength = Integer.parseInt(header.substring(colon + 1).strip());
            }
        }
        in.skipNBytes(contentLength);
        return true;
    }

    /** The app of the loopback priming: a 200 with a short text body, built as an app's handler builds one. */
    private static final DroverApp PRIMING_APP = () -> new ChannelInboundHandlerAdapter() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.copiedBuffer("primed\n", StandardCharsets.UTF_8));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
            ctx.writeAndFlush(response);
        }
    };

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
