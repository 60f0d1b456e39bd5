package dev.drover.supervisor.metrics;

import dev.drover.supervisor.config.BindAddress;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The master's metrics listener (metrics.bind): /metrics in the Prometheus text format, /healthz and /readyz. Runs
 * on an event loop of its own and reads only the arbiter's latest {@link Snapshot}: a scrape never waits for the
 * arbiter, and a stuck arbiter shows as a failing /healthz rather than a hanging one.
 */
public final class MetricsServer implements AutoCloseable {

    private final EventLoopGroup group;
    private final Channel channel;
    private final Path socketFile;

    private MetricsServer(EventLoopGroup group, Channel channel, Path socketFile) {
        this.group = group;
        this.channel = channel;
        this.socketFile = socketFile;
    }

    /** Binds {@code address}; the exception's message is the OS's reason it could not. */
    public static MetricsServer open(BindAddress address, SnapshotBoard board, LongSupplier clock) throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new DroverCollector(board::latest, () -> Health.of(board.latest(), clock.getAsLong()),
                new ListenQueues()));
        JvmMetrics.builder().register(registry);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        Path file = address instanceof BindAddress.Unix u ? u.path() : null;
        try {
            Channel channel = new ServerBootstrap().group(group)
                    .channel(file == null ? EpollServerSocketChannel.class : EpollServerDomainSocketChannel.class)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(4096, 8192, 8192),
                                    new HttpObjectAggregator(8192), new Endpoints(registry, board, clock));
                        }
                    })
                    .bind(socketAddress(address)).sync().channel();
            return new MetricsServer(group, channel, file);
        } catch (Exception e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw new IOException(e.getMessage() == null ? e.toString() : e.getMessage(), e);
        }
    }

    private static SocketAddress socketAddress(BindAddress address) {
        if (address instanceof BindAddress.Unix u) {
            return new DomainSocketAddress(u.path().toString());
        }
        BindAddress.Tcp tcp = (BindAddress.Tcp) address;
        return new InetSocketAddress(tcp.host(), tcp.port());
    }

    /** How the log names it: the real port when metrics.bind asked for port 0. */
    public String display() {
        if (socketFile != null) {
            return "unix:" + socketFile;
        }
        InetSocketAddress local = (InetSocketAddress) channel.localAddress();
        String host = local.getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + local.getPort();
    }

    @Override
    public void close() throws IOException {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        if (socketFile != null) {
            Files.deleteIfExists(socketFile);
        }
    }

    /** GET (or HEAD) /metrics, /healthz, /readyz; anything else 404, other methods 405. */
    private static final class Endpoints extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final PrometheusRegistry registry;
        private final SnapshotBoard board;
        private final LongSupplier clock;
        private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

        Endpoints(PrometheusRegistry registry, SnapshotBoard board, LongSupplier clock) {
            this.registry = registry;
            this.board = board;
            this.clock = clock;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) throws IOException {
            String path = request.uri().split("\\?", 2)[0];
            FullHttpResponse response;
            if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
                response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "expected: GET or HEAD\n");
            } else if (path.equals("/metrics")) {
                response = metrics(ctx);
            } else if (path.equals("/healthz") || path.equals("/readyz")) {
                Health health = Health.of(board.latest(), clock.getAsLong());
                int status = path.equals("/healthz") ? health.livenessStatus() : health.readinessStatus();
                response = text(HttpResponseStatus.valueOf(status), health.line() + "\n");
            } else {
                response = text(HttpResponseStatus.NOT_FOUND, "no " + path + " here (expected: /metrics, /healthz "
                        + "or /readyz)\n");
            }
            if (request.method().equals(HttpMethod.HEAD)) {
                response = response.replace(Unpooled.EMPTY_BUFFER);
            }
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            HttpUtil.setKeepAlive(response, keepAlive);
            var written = ctx.writeAndFlush(response);
            if (!keepAlive) {
                written.addListener(ChannelFutureListener.CLOSE);
            }
        }

        private FullHttpResponse metrics(ChannelHandlerContext ctx) throws IOException {
            ByteBuf body = ctx.alloc().buffer(16384);
            try (ByteBufOutputStream out = new ByteBufOutputStream(body)) {
                writer.write(out, registry.scrape());
            } catch (IOException | RuntimeException e) {
                body.release();
                throw e;
            }
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, writer.getContentType())
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            return response;
        }

        private static FullHttpResponse text(HttpResponseStatus status, String text) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
            return response;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
