package dev.drover.supervisor.os;

import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A listening TCP socket's accept queue, asked of the kernel with getsockopt(TCP_INFO) on the master's own fd: one
 * call per socket, where /proc/net/tcp makes the kernel walk and format the whole host's connection table (tens of ms
 * on a busy host). Linux offers nothing alike for a Unix socket (only sock_diag over netlink shows its queue).
 *
 * @param length connections the kernel has accepted that nobody has accept()ed yet
 * @param limit  the most it holds: listen()'s backlog as the kernel clamped it (net.core.somaxconn)
 */
public record ListenQueue(long length, long limit) {

    private static final int IPPROTO_TCP = 6;
    private static final int TCP_INFO = 11;
    private static final int TCP_LISTEN = 10;
    /**
     * struct tcp_info up to tcpi_sacked: u8 tcpi_state first, u32 tcpi_unacked at byte 24, tcpi_sacked at 28. For
     * a LISTEN socket Linux reports the accept queue's length in tcpi_unacked and its limit in tcpi_sacked
     * (tcp_get_info, net/ipv4/tcp.c; what `ss -ltn` shows as Recv-Q and Send-Q).
     */
    private static final int INTS = 8;
    private static final int UNACKED = 6;
    private static final int SACKED = 7;
    private static final long WAIT_MS = 1000;

    /** The queue of the TCP socket on {@code fd}; empty when it is no listening TCP socket (or no fd at all). */
    public static Optional<ListenQueue> of(int fd) {
        int[] info = new int[INTS];
        int[] length = {INTS * 4};
        if (LibC.calls().getsockopt(fd, IPPROTO_TCP, TCP_INFO, info, length) != 0 || length[0] < INTS * 4
                || (info[0] & 0xff) != TCP_LISTEN) {
            return Optional.empty();
        }
        return Optional.of(new ListenQueue(Integer.toUnsignedLong(info[UNACKED]), Integer.toUnsignedLong(info[SACKED])));
    }

    /**
     * The queue of {@code listener}, read on its channel's event loop: Netty closes a channel's fd on that loop, so
     * a reload that closes the listener meanwhile cannot slip in between the isOpen check and the read (the fd's
     * number, once closed, may name another socket). Empty when the listener is closed or its loop is stopping.
     */
    public static Optional<ListenQueue> of(Listener listener) {
        try {
            return listener.channel().eventLoop()
                    .submit(() -> listener.channel().isOpen() ? of(listener.fd()) : Optional.<ListenQueue>empty())
                    .get(WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException | ExecutionException | TimeoutException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
