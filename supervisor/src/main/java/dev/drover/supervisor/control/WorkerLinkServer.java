package dev.drover.supervisor.control;

import dev.drover.link.LinkCodec;
import dev.drover.link.LinkMessage;
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
import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The master's end of the control links (the worker's end is dev.drover.worker.runtime.MasterLink): a Unix socket
 * in the master's private 0700 directory. Every inbound message goes to {@link Inbound} (the master posts it to the
 * arbiter, which decides).
 */
public final class WorkerLinkServer implements AutoCloseable {

    /** What arrives on the links; called on Netty's event loop, so an implementation only posts. */
    public interface Inbound {
        /** A link introduced itself; {@code peerPid} comes from SO_PEERCRED, not from the message. */
        void hello(WorkerLink link, LinkMessage hello, long peerPid);

        void received(WorkerLink link, LinkMessage message);

        /** The link broke the protocol or failed; {@code problem} says how. */
        void failed(WorkerLink link, String problem);
    }

    private final Channel server;

    private WorkerLinkServer(Channel server) {
        this.server = server;
    }

    public static WorkerLinkServer bind(Path socket, EventLoopGroup group, Inbound events)
            throws InterruptedException {
        Handler inbound = new Handler(events);
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

    @Override
    public void close() {
        server.close().syncUninterruptibly();
    }

    /** One handler for all links: it keeps no state of its own, so it is shared. */
    @ChannelHandler.Sharable
    private static final class Handler extends SimpleChannelInboundHandler<LinkMessage> {
        private final Inbound events;

        Handler(Inbound events) {
            this.events = events;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, LinkMessage message) {
            if (message.type() == LinkMessage.Type.HELLO) {
                long peerPid;
                try {
                    peerPid = ((EpollDomainSocketChannel) ctx.channel()).peerCredentials().pid();
                } catch (IOException e) {
                    events.failed(new ChannelLink(ctx.channel()), "cannot read SO_PEERCRED: " + e.getMessage());
                    return;
                }
                events.hello(new ChannelLink(ctx.channel()), message, peerPid);
            } else {
                events.received(new ChannelLink(ctx.channel()), message);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            events.failed(new ChannelLink(ctx.channel()), "control link closed");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable problem = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
            events.failed(new ChannelLink(ctx.channel()), problem.getMessage());
        }
    }
}
