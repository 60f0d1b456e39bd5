package dev.drover.supervisor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drover.supervisor.config.BindAddress;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Route B with real children: the child's fd 0 is the master's listening socket (it can accept on it), and the
 * master's own fd 0 is what it was before, also when the master had none.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StdinSocketTest {

    private static final Path FD0 = Path.of("/proc/self/fd/0");

    private EventLoopGroup io;
    private Listeners listeners;
    private Listener listener;

    @BeforeEach
    void bind() throws Exception {
        io = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        listeners = new Listeners(io);
        listener = listeners.acquire(List.of(BindAddress.parse("127.0.0.1:0")), 16, 0660).get(0);
    }

    @AfterEach
    void release() {
        listeners.close();
        io.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void theChildsFd0IsTheListenerAndTheMastersIsPutBack() throws Exception {
        String before = Files.readSymbolicLink(FD0).toString();
        Process child = StdinSocket.start(new ProcessBuilder("readlink", "/proc/self/fd/0"), listener.fd());
        assertEquals(before, Files.readSymbolicLink(FD0).toString(), "the master's fd 0 is its own again");
        assertEquals(socketOf(listener.fd()), output(child), "the child's fd 0 is the listening socket");
        assertEquals(0, child.waitFor());
    }

    @Test
    void theChildAcceptsOnItsFd0() throws Exception {
        // python3 accepts one connection on fd 0 and answers: the socket is usable as a listener, not only there.
        Process child = StdinSocket.start(new ProcessBuilder("python3", "-c", "import socket\n"
                + "s = socket.socket(fileno=0)\n"
                + "s.setblocking(True)\n"
                + "c, _ = s.accept()\n"
                + "c.sendall(b'accepted on fd 0')\n"
                + "c.close()\n").redirectErrorStream(true), listener.fd());
        InetSocketAddress address = (InetSocketAddress) listener.channel().localAddress();
        try (Socket client = new Socket(address.getAddress(), address.getPort())) {
            client.setSoTimeout(20_000);
            assertEquals("accepted on fd 0", new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            assertEquals(0, child.waitFor(), output(child));
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void aMasterWithFd0ClosedLendsTheFreeFd0AndClosesItAgain() throws Exception {
        // Everything this test runs is loaded first: a class loaded while fd 0 is free could take it (a jar).
        output(StdinSocket.start(new ProcessBuilder("true"), listener.fd()));
        boolean[] exists = {Files.exists(FD0, LinkOption.NOFOLLOW_LINKS)};
        int saved = Posix.dup(0);
        assertTrue(saved >= 0);
        Process child;
        try {
            Posix.close(0);
            child = StdinSocket.start(new ProcessBuilder("readlink", "/proc/self/fd/0"), listener.fd());
            exists[0] = Files.exists(FD0, LinkOption.NOFOLLOW_LINKS);
        } finally {
            Posix.dup2(saved, 0);
            Posix.close(saved);
        }
        assertFalse(exists[0], "the master's fd 0 is closed again after the spawn");
        assertEquals(socketOf(listener.fd()), output(child), "the child's fd 0 is the listening socket");
    }

    @Test
    void ensureStdinPutsDevNullOnAClosedFd0() throws Exception {
        StdinSocket.ensureStdin(); // loaded, and a no-op with fd 0 open
        Files.readSymbolicLink(FD0);
        int saved = Posix.dup(0);
        String after;
        try {
            Posix.close(0);
            StdinSocket.ensureStdin();
            after = Files.readSymbolicLink(FD0).toString();
        } finally {
            Posix.dup2(saved, 0);
            Posix.close(saved);
        }
        assertEquals("/dev/null", after);
    }

    private static String socketOf(int fd) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    }

    private static String output(Process child) throws IOException {
        try (InputStream in = child.getInputStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        }
    }
}
