package dev.drover.supervisor.os;

import dev.drover.supervisor.config.BindAddress;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Binds every configured address once, in the master, with Netty epoll: non-blocking sockets (a blocking one
 * would pin each worker's accept thread) and AUTO_READ off, so the master never accepts a connection itself.
 * A reload may add addresses (opened before any old one closes) and later release those no worker uses.
 */
public final class Listeners implements AutoCloseable {

    /** What binding one address failed with; the caller adds the key and origin. */
    public static final class BindFailure extends Exception {
        public final BindAddress address;

        BindFailure(BindAddress address, String message) {
            super(message);
            this.address = address;
        }
    }

    private final Map<BindAddress, Listener> bound = new LinkedHashMap<>();
    /** Sockets a master before an upgrade in place left open, by the address they serve, until an acquire adopts them. */
    private final Map<String, Integer> inherited = new LinkedHashMap<>();
    private final EventLoopGroup group;

    public Listeners(EventLoopGroup group) {
        this.group = group;
    }

    /**
     * After an upgrade in place: the listening sockets the old master kept open across the exec, by the address (as
     * drover.bind writes it) each serves. An address asked for again is adopted, not bound: the same socket, with its
     * backlog of waiting connections, and the same port even where the address asked for port 0.
     */
    public void inherit(Map<String, Integer> sockets) {
        inherited.putAll(sockets);
    }

    /**
     * The listeners for {@code addresses}, in order, binding those not bound yet: all of them or none (on a failure
     * the ones this call bound are closed again, and the ones bound before are untouched).
     */
    public List<Listener> acquire(List<BindAddress> addresses, int backlog, int unixMode) throws BindFailure {
        List<Listener> result = new ArrayList<>();
        List<Listener> fresh = new ArrayList<>();
        try {
            for (BindAddress address : addresses) {
                Listener listener = bound.get(address);
                if (listener == null) {
                    Integer fd = inherited.remove(address.toString());
                    listener = fd != null ? adopt(address, fd, group) : bindOne(address, backlog, unixMode, group);
                    fresh.add(listener);
                }
                result.add(listener);
            }
        } catch (BindFailure | RuntimeException e) {
            fresh.forEach(Listeners::closeOne);
            throw e;
        }
        fresh.forEach(l -> bound.put(l.address(), l));
        return result;
    }

    /**
     * Closes every listener whose address no generation in use still binds, except inherited ones: their fd number,
     * once closed, could be reused by any file the master opens, and a later reload naming fd://N again would take
     * that file for the socket. An inherited socket stays open until the master stops.
     */
    public void releaseAllBut(Set<BindAddress> inUse) {
        closeInherited();
        for (var it = bound.values().iterator(); it.hasNext(); ) {
            Listener listener = it.next();
            if (!inUse.contains(listener.address()) && !(listener.address() instanceof BindAddress.Fd)) {
                closeOne(listener);
                it.remove();
            }
        }
    }

    private static Listener bindOne(BindAddress address, int backlog, int unixMode, EventLoopGroup group)
            throws BindFailure {
        if (address instanceof BindAddress.Tcp tcp) {
            InetSocketAddress socketAddress;
            try {
                socketAddress = new InetSocketAddress(InetAddress.getByName(tcp.host()), tcp.port());
            } catch (IOException e) {
                throw new BindFailure(address, "cannot resolve host " + tcp.host() + ": " + e.getMessage());
            }
            Channel ch = bindChannel(address, serverBootstrap(group, backlog).channel(EpollServerSocketChannel.class)
                    .option(ChannelOption.SO_REUSEADDR, true), socketAddress);
            return new Listener(address, "tcp", ch, Optional.empty());
        }
        if (address instanceof BindAddress.Unix unix) {
            removeStaleSocket(unix);
            // bind() creates the socket file with mode 0777 & ~umask, so it has drover.unix-socket-mode from the
            // start. A chmod after bind would go through the path, and in a shared directory someone can put a link
            // to any file there in between. The umask is the process's, so it also holds on Netty's event loop
            // thread, which makes the bind() call while this thread waits in sync().
            Channel ch = Posix.withUmask(~unixMode & 0777, () -> bindChannel(address, serverBootstrap(group, backlog)
                    .channel(EpollServerDomainSocketChannel.class), new DomainSocketAddress(unix.path().toFile())));
            return new Listener(address, "unix", ch, Optional.of(unix.path()));
        }
        return adopt(address, ((BindAddress.Fd) address).fd(), group);
    }

    private static ServerBootstrap serverBootstrap(EventLoopGroup group, int backlog) {
        return new ServerBootstrap().group(group)
                .option(ChannelOption.AUTO_READ, false) // the master never accept()s
                .option(ChannelOption.SO_BACKLOG, backlog)
                .childHandler(new ChannelInboundHandlerAdapter());
    }

    private static Channel bindChannel(BindAddress address, ServerBootstrap bootstrap, java.net.SocketAddress to)
            throws BindFailure {
        try {
            return bootstrap.bind(to).sync().channel();
        } catch (Exception e) {
            throw new BindFailure(address, "cannot bind: " + e.getMessage());
        }
    }

    /** An existing socket file that nobody answers on is stale (a master that died): remove it, as Gunicorn does. */
    private static void removeStaleSocket(BindAddress.Unix unix) throws BindFailure {
        Path path = unix.path();
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!isSocket(path)) {
            throw new BindFailure(unix, path + " exists and is not a socket; refusing to replace it");
        }
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            throw new BindFailure(unix, "cannot bind: another process is listening on " + path);
        } catch (ConnectException stale) {
            try {
                Files.delete(path);
            } catch (IOException e) {
                throw new BindFailure(unix, "cannot remove the stale socket " + path + ": " + e.getMessage());
            }
        } catch (IOException e) {
            throw new BindFailure(unix, "cannot probe the existing socket " + path + ": " + e.getMessage());
        }
    }

    private static boolean isSocket(Path path) {
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return (mode & 0170000) == 0140000;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * A listening socket inherited from whoever started the master (fd://N: systemd, a parent supervisor), or from
     * the master before an upgrade in place; a Unix socket file of ours is removed at the stop as a bound one is.
     */
    private static Listener adopt(BindAddress address, int fd, EventLoopGroup group) throws BindFailure {
        String kind;
        try {
            kind = InheritedSocket.kind(fd);
        } catch (InheritedSocket.Unusable e) {
            throw new BindFailure(address, e.getMessage());
        }
        Channel ch = kind.equals("unix") ? new EpollServerDomainSocketChannel(fd, true)
                : new EpollServerSocketChannel(fd);
        ch.config().setAutoRead(false);
        try {
            group.register(ch).sync();
        } catch (Exception e) {
            throw new BindFailure(address, "cannot adopt fd " + fd + ": " + e.getMessage());
        }
        return new Listener(address, kind, ch, address instanceof BindAddress.Unix unix ? Optional.of(unix.path())
                : Optional.empty());
    }

    /** Inherited sockets no address asked for: nobody will accept on them. */
    private void closeInherited() {
        inherited.values().forEach(Posix::close);
        inherited.clear();
    }

    /** Closes the master's copies and removes the socket files it created. */
    @Override
    public void close() {
        closeInherited();
        bound.values().forEach(Listeners::closeOne);
        bound.clear();
    }

    private static void closeOne(Listener listener) {
        listener.channel().close().syncUninterruptibly();
        listener.createdFile().ifPresent(path -> {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                // best effort; a stale socket file is removed at the next start
            }
        });
    }
}
