package dev.drover.supervisor.control;

import dev.drover.link.LinkCodec;
import dev.drover.link.LinkMessage;
import dev.drover.supervisor.arbiter.Event;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.FileDescriptor;
import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * The master's end of the control links (the worker's end is dev.drover.worker.runtime.MasterLink): a Unix socket
 * in the master's private 0700 directory. Every inbound message becomes an arbiter event; the arbiter decides.
 */
public final class WorkerLinkServer implements AutoCloseable {

    private final Channel server;

    private WorkerLinkServer(Channel server) {
        this.server = server;
    }

    public static WorkerLinkServer bind(Path socket, EventLoopGroup group, Consumer<Event> events)
            throws InterruptedException {
        Inbound inbound = new Inbound(events);
        Channel server = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        LinkCodec.install(ch.pipeline());
                        ch.pipeline().addLast(inbound);
                    }
                })
                .bind(new DomainSocketAddress(socket.toFile())).sync().channel();
        return new WorkerLinkServer(server);
    }

    /** Hands a worker the listening sockets, in order, over SCM_RIGHTS. */
    public static void sendListeningSockets(Channel link, List<Integer> fds) {
        for (int fd : fds) {
            link.write(new FileDescriptor(fd));
        }
        link.flush();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
    }

    /** One handler for all links: it keeps no state of its own, so it is shared. */
    @ChannelHandler.Sharable
    private static final class Inbound extends SimpleChannelInboundHandler<LinkMessage> {
        private final Consumer<Event> events;

        Inbound(Consumer<Event> events) {
            this.events = events;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, LinkMessage message) {
            if (message.type() == LinkMessage.Type.HELLO) {
                long peerPid;
                try {
                    peerPid = ((EpollDomainSocketChannel) ctx.channel()).peerCredentials().pid();
                } catch (IOException e) {
                    events.accept(new Event.LinkFailed(ctx.channel(), "cannot read SO_PEERCRED: " + e.getMessage()));
                    return;
                }
                events.accept(new Event.LinkHello(ctx.channel(), message, peerPid));
            } else {
                events.accept(new Event.LinkReceived(ctx.channel(), message));
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            events.accept(new Event.LinkFailed(ctx.channel(), "control link closed"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable problem = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
            events.accept(new Event.LinkFailed(ctx.channel(), problem.getMessage()));
        }
    }
}
