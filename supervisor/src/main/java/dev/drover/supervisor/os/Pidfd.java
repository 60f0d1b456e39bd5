package dev.drover.supervisor.os;

/**
 * A pidfd (Linux 5.3+): a file descriptor that refers to one process for ever. Signals sent through it reach that
 * process or fail with ESRCH once it is gone, never a later process that got its pid. Neither the JDK nor
 * jnr-posix offers pidfd_open(2) or pidfd_send_signal(2), so they are raw syscalls (LibC).
 */
final class Pidfd {

    /** What {@link #sendSignal} returns when the process has exited. */
    static final String GONE = "the process has exited";

    private static final long SYS_PIDFD_SEND_SIGNAL = 424;
    private static final long SYS_PIDFD_OPEN = 434;
    private static final int ESRCH = 3;

    /** pidfd_open failed: the kernel lacks it, or the process is gone. */
    static final class Unavailable extends Exception {
        Unavailable(String message) {
            super(message);
        }
    }

    private final int fd;
    private final long pid;
    private boolean closed;

    private Pidfd(int fd, long pid) {
        this.fd = fd;
        this.pid = pid;
    }

    static Pidfd open(long pid) throws Unavailable {
        LibC.Calls c = LibC.calls();
        int fd = (int) c.syscall(SYS_PIDFD_OPEN, pid, 0);
        if (fd < 0) {
            throw new Unavailable("pidfd_open(" + pid + ") failed: " + LibC.lastError());
        }
        return new Pidfd(fd, pid);
    }

    /** Returns null once delivered, {@link #GONE} if the process has exited, else why it failed (errno's text). */
    synchronized String sendSignal(int signal) {
        if (closed) {
            return GONE;
        }
        LibC.Calls c = LibC.calls();
        if (c.syscall(SYS_PIDFD_SEND_SIGNAL, fd, signal, 0L, 0) == 0) {
            return null;
        }
        int errno = LibC.lastErrno();
        return errno == ESRCH ? GONE
                : "pidfd_send_signal(pidfd of pid " + pid + ", " + signal + ") failed: " + LibC.describe(errno);
    }

    synchronized void close() {
        if (!closed) {
            closed = true;
            String failure = Posix.close(fd);
            if (failure != null) {
                org.slf4j.LoggerFactory.getLogger(Pidfd.class).warn("pidfd of pid {}: {}", pid, failure);
            }
        }
    }
}
