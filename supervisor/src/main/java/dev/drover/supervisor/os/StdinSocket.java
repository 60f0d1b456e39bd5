package dev.drover.supervisor.os;

import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a child with a listening socket as its fd 0 (its stdin), where Tomcat and Jetty find an inherited channel
 * (System.inheritedChannel()). ProcessBuilder closes every fd above 2 in the child and offers no way to place one,
 * but with redirectInput(INHERIT) the child gets the master's own fd 0: so for the length of start() the master's
 * fd 0 is the listener, and then its stdin again. The master never reads stdin; the one lock keeps two such spawns
 * from overlapping, and every spawn of the master that inherits fd 0 goes through here.
 */
public final class StdinSocket {

    private static final Logger log = LoggerFactory.getLogger(StdinSocket.class);
    private static final Object FD0 = new Object();
    private static final int STDIN = 0;
    private static final int EBADF = 9;

    private StdinSocket() {
    }

    /**
     * Puts /dev/null on fd 0 if the master was started without one. Otherwise the JVM hands the free fd 0 to the
     * next file it opens (a jar of its class path, kept open), and a spawn would lend that file to a worker and
     * swap it under the master's own class loader. Called once, early; scripts/drover does the same before exec.
     */
    public static void ensureStdin() {
        synchronized (FD0) {
            int probe = Posix.dup(STDIN);
            if (probe >= 0) {
                Posix.close(probe);
                return;
            }
            String failed = Posix.openDevNullAt(STDIN);
            if (failed != null) {
                log.warn("the master has no fd 0 and cannot put /dev/null there: {}; spawns lend the free fd 0",
                        failed);
            }
        }
    }

    /**
     * Starts {@code builder} with {@code listenerFd} on the child's fd 0. A master started with fd 0 closed works
     * too: the listener takes the free fd 0 for the spawn, which is closed again after.
     */
    public static Process start(ProcessBuilder builder, int listenerFd) throws IOException {
        builder.redirectInput(ProcessBuilder.Redirect.INHERIT);
        synchronized (FD0) {
            int saved = Posix.dup(STDIN);
            if (saved < 0 && saved != -EBADF) {
                throw new IOException("cannot put the listening socket on the worker's fd 0: dup(0) failed: "
                        + Posix.describe(-saved));
            }
            String failed = Posix.dup2(listenerFd, STDIN);
            if (failed != null) {
                restore(saved);
                throw new IOException("cannot put the listening socket on the worker's fd 0: " + failed);
            }
            try {
                return builder.start();
            } finally {
                restore(saved);
            }
        }
    }

    /**
     * Puts the master's own fd 0 back (or closes it, if it had none). It cannot fail with two valid fds; if it did,
     * the worker is started all the same (throwing would lose it) and the master's stdin is the listener's copy.
     */
    private static void restore(int saved) {
        String failed = saved >= 0 ? Posix.dup2(saved, STDIN) : Posix.close(STDIN);
        if (saved >= 0) {
            String closeFailed = Posix.close(saved);
            failed = failed != null ? failed : closeFailed;
        }
        if (failed != null) {
            log.error("cannot restore the master's fd 0 after a spawn: {}", failed);
        }
    }
}
