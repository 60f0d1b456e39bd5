package dev.drover.worker.runtime;

import dev.drover.worker.api.DroverApp;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * The worker's HTTP/1.1 server on the listening sockets it adopted from the master (no bind: the sockets arrive
 * bound and listening). Pipeline: the connection limit, the strict codec (which refuses what RFC 9112 says to refuse
 * and keeps the read deadlines), the aggregator, connection tracking, the app's handler, a last-resort 500.
 */
final class HttpService {

    private final EventLoopGroup loops;
    private final DroverApp app;
    private final ConnectionTracker tracker;
    private final HttpLimits limits;
    /** Added to while connections on the first listener may already be hitting the connection limit. */
    private final List<Channel> servers = new CopyOnWriteArrayList<>();
    private final ConnectionLimit connectionLimit;
    private final AcceptBackoff acceptBackoff;

    HttpService(EventLoopGroup loops, DroverApp app, ConnectionTracker tracker, HttpLimits limits) {
        this.loops = loops;
        this.app = app;
        this.tracker = tracker;
        this.limits = limits;
        this.connectionLimit = new ConnectionLimit(limits.maxConnections(), servers);
        this.acceptBackoff = new AcceptBackoff(tracker::connections, connectionLimit::belowLimit);
    }

    /**
     * The HTTP part of a connection's pipeline, then {@code tail} (the app's handler, ...): also what the warm-up
     * and the tests run, so that they exercise the real thing.
     */
    static void addHttp(ChannelPipeline pipeline, HttpLimits limits, ChannelHandler... tail) {
        pipeline.addLast(new ServerCodec(limits), new HttpObjectAggregator(limits.maxBodySize()));
        pipeline.addLast(tail);
    }

    /** Starts accepting on the inherited fd; {@code kind} is "tcp" or "unix", as the master says. */
    void adopt(String kind, int fd) throws InterruptedException {
        Supplier<ServerChannel> factory = switch (kind) {
            case "tcp" -> () -> new EpollServerSocketChannel(fd);
            case "unix" -> () -> new EpollServerDomainSocketChannel(fd, true); // (fd) alone starts inactive
            default -> throw new IllegalArgumentException("listener kind: " + kind + " (expected: tcp or unix)");
        };
        // register(), not bind(): the socket is already listening, so registering makes it active and accepting.
        servers.add(bootstrap().channelFactory(factory::get).register().sync().channel());
    }

    /** Binds a socket of its own: the standalone mode, a plain JVM without a master (the benchmarks' baseline). */
    void bind(java.net.InetSocketAddress address) throws InterruptedException {
        servers.add(bootstrap().channel(EpollServerSocketChannel.class)
                .option(io.netty.channel.ChannelOption.SO_BACKLOG, 2048)
                .option(io.netty.channel.ChannelOption.SO_REUSEADDR, true)
                .bind(address).sync().channel());
    }

    private ServerBootstrap bootstrap() {
        // handler(): first in each listening channel's pipeline, from its registration on, ahead of Netty's acceptor.
        return new ServerBootstrap().group(loops).handler(new ChannelInitializer<ServerChannel>() {
                    @Override
                    protected void initChannel(ServerChannel ch) {
                        ch.pipeline().addLast(acceptBackoff, tracker.acceptHandler());
                    }
                })
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(connectionLimit);
                        addHttp(ch.pipeline(), limits, tracker.newHandler(), app.newRequestHandler(),
                                new LastResortHandler());
                    }
                });
    }

    /**
     * Closes this worker's copy of every listening socket (the other workers keep accepting on theirs) and runs
     * {@code then} once all are closed. Never waits: the caller may be the control link's thread, and a listening
     * channel whose event loop is stuck would never close.
     */
    void stopAccepting(Runnable then) {
        if (servers.isEmpty()) {
            then.run();
            return;
        }
        java.util.concurrent.atomic.AtomicInteger left = new java.util.concurrent.atomic.AtomicInteger(servers.size());
        for (Channel server : servers) {
            server.close().addListener(f -> {
                if (left.decrementAndGet() == 0) {
                    then.run();
                }
            });
        }
    }

    List<Channel> servers() {
        return servers;
    }
}
