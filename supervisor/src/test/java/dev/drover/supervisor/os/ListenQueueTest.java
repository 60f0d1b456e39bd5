package dev.drover.supervisor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drover.supervisor.config.BindAddress;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * TCP_INFO on a real listening socket that nobody accepts on (the master's kind): the kernel's accept queue and
 * backlog, as `ss -ltn` shows them too.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ListenQueueTest {

    private static final int BACKLOG = 8;

    private EventLoopGroup io;
    private Listeners listeners;
    private Listener listener;
    private final List<Socket> clients = new ArrayList<>();

    @BeforeEach
    void bind() throws Exception {
        io = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        listeners = new Listeners(io);
        listener = listeners.acquire(List.of(BindAddress.parse("127.0.0.1:0")), BACKLOG, 0660).get(0);
    }

    @AfterEach
    void release() throws Exception {
        for (Socket client : clients) {
            client.close();
        }
        listeners.close();
        io.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void countsTheConnectionsNobodyHasAcceptedAndTheBacklog() throws Exception {
        assertEquals(Optional.of(new ListenQueue(0, BACKLOG)), ListenQueue.of(listener));
        int port = ((InetSocketAddress) listener.channel().localAddress()).getPort();
        for (int i = 0; i < 3; i++) {
            clients.add(new Socket("127.0.0.1", port));
        }
        ListenQueue three = awaitLength(3);
        assertEquals(new ListenQueue(3, BACKLOG), three);
        assertEquals(three, ss(port), "what ss -ltn shows as Recv-Q and Send-Q");
        assertEquals(Optional.of(three), ListenQueue.of(listener.fd()), "the fd read on the caller's thread");
    }

    @Test
    void aClosedListenerOrAFdThatIsNoListeningSocketHasNone() throws Exception {
        assertEquals(Optional.empty(), ListenQueue.of(-1));
        assertEquals(Optional.empty(), ListenQueue.of(1), "fd 1: no socket, or no listening TCP one");
        listener.channel().close().sync();
        assertEquals(Optional.empty(), ListenQueue.of(listener), "a reload closed it: its fd number is not read");
    }

    /** The connects return once the handshake is done; the kernel queues the connection for accept() about then. */
    private ListenQueue awaitLength(int length) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        ListenQueue q = ListenQueue.of(listener).orElseThrow();
        while (q.length() < length && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            q = ListenQueue.of(listener).orElseThrow();
        }
        return q;
    }

    private static ListenQueue ss(int port) throws Exception {
        Process ss;
        try {
            ss = new ProcessBuilder("ss", "-Hltn", "sport = :" + port).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            Assumptions.abort("ss (iproute2) is not installed: " + e.getMessage());
            throw e;
        }
        String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, ss.waitFor(), out);
        String[] f = out.split("\\s+");
        assertTrue(f.length >= 3 && f[0].equals("LISTEN"), out);
        return new ListenQueue(Long.parseLong(f[1]), Long.parseLong(f[2]));
    }
}
