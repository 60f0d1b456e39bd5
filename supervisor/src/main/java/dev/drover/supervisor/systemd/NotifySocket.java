package dev.drover.supervisor.systemd;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Socket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends sd_notify(3) datagrams to systemd's NOTIFY_SOCKET, a file path or an abstract name ("@name"). JDK 17 has no
 * Unix datagram socket at all, so this is Netty's native one; it is non-blocking, so a send never waits: a full
 * queue drops the message, as sd_notify does with MSG_DONTWAIT. A send never throws either: the first failure is
 * logged, the rest are dropped quietly (systemd gone, or the socket removed) until a send succeeds again.
 */
public final class NotifySocket implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NotifySocket.class);

    private final String address;
    private final byte[] path;
    private final Socket socket;
    private boolean failing;

    private NotifySocket(String address, Socket socket) {
        this.address = address;
        // The kernel names an abstract socket by every byte of sun_path after a leading NUL, up to the length given;
        // Netty passes the array's exact length, so "@name" becomes "\0name" and matches what systemd bound.
        this.path = (address.startsWith("@") ? "\0" + address.substring(1) : address).getBytes(StandardCharsets.UTF_8);
        this.socket = socket;
    }

    /** A socket for NOTIFY_SOCKET's value; fails only if the master cannot create a datagram socket at all. */
    public static NotifySocket open(String address) throws IOException {
        Epoll.ensureAvailability();
        return new NotifySocket(address, Socket.newSocketDomainDgram());
    }

    /** One message: newline-separated VARIABLE=value assignments. */
    public void send(String message) {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
        String problem;
        try {
            if (socket.sendToDomainSocket(buffer, 0, bytes.length, path) == bytes.length) {
                failing = false;
                return;
            }
            problem = "its queue is full (systemd is not reading it)";
        } catch (IOException | RuntimeException e) {
            problem = e.getMessage();
        }
        if (!failing) {
            failing = true;
            log.warn("cannot notify systemd on NOTIFY_SOCKET={} ({}): \"{}\" and what follows until a send succeeds "
                    + "are dropped; the master goes on", address, problem, message.replace('\n', ' '));
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
