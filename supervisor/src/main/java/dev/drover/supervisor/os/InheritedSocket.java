package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What an inherited fd (fd://N, or a socket systemd passed) is, asked of the kernel with getsockopt(2): only a
 * listening stream socket of the Unix or IP families can be handed to workers to accept on. A datagram socket, or a
 * stream socket that nobody bound and listened on, would leave every worker with nothing to accept.
 */
final class InheritedSocket {

    private static final int SOL_SOCKET = 1;
    private static final int SO_TYPE = 3;
    private static final int SO_ACCEPTCONN = 30;
    private static final int SO_DOMAIN = 39;
    private static final int SOCK_STREAM = 1;
    private static final int AF_UNIX = 1;
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    private static final int ENOTSOCK = 88;

    /** Why an fd cannot be adopted, in words for the operator. */
    static final class Unusable extends Exception {
        Unusable(String message) {
            super(message);
        }
    }

    private InheritedSocket() {
    }

    /** "tcp" or "unix", the Listener kind for {@code fd}; or why it is not a listening stream socket. */
    static String kind(int fd) throws Unusable {
        if (!Files.exists(Path.of("/proc/self/fd/" + fd))) {
            throw new Unusable("fd " + fd + " is not open in the master (was it passed to it? systemd passes "
                    + "LISTEN_FDS sockets from fd 3 on)");
        }
        int type = option(fd, SO_TYPE, "SO_TYPE");
        if (type != SOCK_STREAM) {
            throw new Unusable("fd " + fd + " is a " + (type == 2 ? "datagram" : "type " + type)
                    + " socket, not a stream socket (a socket unit needs ListenStream=, not ListenDatagram=)");
        }
        int domain = option(fd, SO_DOMAIN, "SO_DOMAIN");
        if (domain != AF_UNIX && domain != AF_INET && domain != AF_INET6) {
            throw new Unusable("fd " + fd + " is a socket of address family " + domain
                    + ", not a TCP (IPv4, IPv6) or Unix socket");
        }
        if (option(fd, SO_ACCEPTCONN, "SO_ACCEPTCONN") == 0) {
            throw new Unusable("fd " + fd + " is a stream socket that is not listening (not bound, or listen(2) "
                    + "was never called on it)");
        }
        return domain == AF_UNIX ? "unix" : "tcp";
    }

    private static int option(int fd, int option, String name) throws Unusable {
        int[] value = new int[1];
        int[] length = {4};
        if (LibC.calls().getsockopt(fd, SOL_SOCKET, option, value, length) != 0) {
            int errno = LibC.lastErrno();
            throw new Unusable(errno == ENOTSOCK ? "fd " + fd + " is " + target(fd) + ", not a socket"
                    : "getsockopt(" + fd + ", " + name + ") failed: " + LibC.describe(errno));
        }
        return value[0];
    }

    private static String target(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException e) {
            return "not a socket";
        }
    }
}
