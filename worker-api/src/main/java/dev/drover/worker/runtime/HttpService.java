package dev.drover.worker.runtime;

import dev.drover.worker.api.DroverApp;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The worker's HTTP/1.1 server on the listening sockets it adopted from the master (no bind: the sockets arrive
 * bound and listening). Pipeline: codec, aggregator, connection tracking, the app's handler, a last-resort 500.
 */
final class HttpService {

    /** Largest request body the aggregator buffers. */
    static final int MAX_CONTENT = 1 << 20;

    private final EventLoopGroup loops;
    private final DroverApp app;
    private final ConnectionTracker tracker;
    private final List<Channel> servers = new ArrayList<>();

    HttpService(EventLoopGroup loops, DroverApp app, ConnectionTracker tracker) {
        this.loops = loops;
        this.app = app;
        this.tracker = tracker;
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
        return new ServerBootstrap().group(loops)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_CONTENT),
                                tracker.newHandler(), app.newRequestHandler(), new LastResortHandler());
                    }
                });
    }

    /**
     * Closes this worker's copy of every listening socket (the other workers keep accepting on theirs) and runs
     * {@code then} once all are closed. Never waits: the caller may be the control link's thread, and a listening
     * channel whose event loop is stuck would never close.
     */
    void stopAccepting(Runnable then) {
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
