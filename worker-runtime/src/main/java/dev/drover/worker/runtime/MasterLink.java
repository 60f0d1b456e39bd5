package dev.drover.worker.runtime;

import dev.drover.link.LinkCodec;
import dev.drover.link.LinkMessage;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The worker's end of the control link (the master's end is dev.drover.supervisor.control.WorkerLinkServer).
 * It introduces the worker, receives the listening sockets over SCM_RIGHTS (a native worker; a foreign one has its
 * socket from the spawn), then carries READY, STATS, DRAIN and CEILING.
 * Its EOF means the master is gone.
 */
final class MasterLink {

    private static final LazyLogging.Log log = LazyLogging.Log.of(MasterLink.class);

    interface Listener {
        void onDrain(LinkMessage message);

        void onSnapshot(LinkMessage message);

        void onCeiling(LinkMessage message);

        void onMasterGone();

        /** PROMOTE: a spare starts accepting. */
        void onPromote(LinkMessage message);

        /** ADOPT: a standby JVM becomes a worker (only a native worker hears it). */
        default void onAdopt(LinkMessage message) {
        }
    }

    private final EventLoopGroup group;
    private final Listener listener;
    private final CompletableFuture<List<Integer>> fds = new CompletableFuture<>();
    private Channel channel;

    MasterLink(EventLoopGroup group, Listener listener) {
        this.group = group;
        this.listener = listener;
    }

    /**
     * Connects, says HELLO and waits for the listening sockets; returns their fd numbers. The group must be an
     * epoll one. A native worker only: see {@link #attachInherited}.
     */
    List<Integer> attach(WorkerEnv env, Duration timeout) throws Exception {
        EpollDomainSocketChannel link = new EpollDomainSocketChannel();
        // Start in fd mode: the master's first answer is the sockets; we switch to bytes once all arrived.
        link.config().setReadMode(DomainSocketReadMode.FILE_DESCRIPTORS);
        channel = connect(link, new DomainSocketAddress(env.linkSocket().toFile()), env.listenerKinds().size());
        channel.writeAndFlush(hello(env).build()).sync();
        return fds.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * A foreign worker's attach: its socket is already fd 0, so its HELLO says {@code inherited=1} and the master
     * sends no fds; this returns once the HELLO is written (a master that refuses it closes the link, which
     * {@link Listener#onMasterGone} hears). The group must be an NIO one: with no fd to receive, the JDK's own Unix
     * domain sockets do, and no native library of Netty's is loaded into the app's JVM.
     */
    void attachInherited(WorkerEnv env) throws Exception {
        channel = connect(new NioDomainSocketChannel(), UnixDomainSocketAddress.of(env.linkSocket()), 0);
        channel.writeAndFlush(hello(env).put("inherited", 1).build()).sync();
    }

    /**
     * Registers and connects one channel by hand: a Bootstrap would cost the boot its client path (a name resolver,
     * a reflective channel factory, an initialiser) for the one connection a worker makes.
     */
    private Channel connect(Channel link, SocketAddress master, int expectedFds) throws InterruptedException {
        LinkCodec.install(link.pipeline());
        link.pipeline().addLast(new Inbound(expectedFds));
        group.register(link).sync();
        link.connect(master).sync();
        return link;
    }

    private static LinkMessage.Builder hello(WorkerEnv env) {
        return LinkMessage.of(LinkMessage.Type.HELLO).put("id", env.workerId()).put("secret", env.secret());
    }

    void send(LinkMessage message) {
        channel.writeAndFlush(message);
    }

    Channel channel() {
        return channel;
    }

    private final class Inbound extends SimpleChannelInboundHandler<Object> {
        private final int expected;
        private final List<Integer> received = new ArrayList<>();

        Inbound(int expected) {
            this.expected = expected;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof FileDescriptor fd) {
                received.add(fd.intValue());
                if (received.size() == expected) {
                    ((EpollDomainSocketChannel) ctx.channel()).config().setReadMode(DomainSocketReadMode.BYTES);
                    fds.complete(List.copyOf(received));
                }
            } else if (msg instanceof LinkMessage message && message.type() == LinkMessage.Type.DRAIN) {
                listener.onDrain(message);
            } else if (msg instanceof LinkMessage message && message.type() == LinkMessage.Type.CEILING) {
                listener.onCeiling(message);
            } else if (msg instanceof LinkMessage message && message.type() == LinkMessage.Type.SNAPSHOT) {
                listener.onSnapshot(message);
            } else if (msg instanceof LinkMessage message && message.type() == LinkMessage.Type.PROMOTE) {
                listener.onPromote(message);
            } else if (msg instanceof LinkMessage message && message.type() == LinkMessage.Type.ADOPT) {
                listener.onAdopt(message);
            } else {
                log.warn("ignoring unexpected control-link message from the master: {}", msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            fds.completeExceptionally(new IllegalStateException(
                    "the master closed the control link before sending " + expected + " listening socket(s)"));
            listener.onMasterGone();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.warn("control link: {}", cause.getMessage());
        }
    }
}
