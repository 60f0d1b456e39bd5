package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/**
 * The POSIX calls the JDK does not expose, through jnr-posix, each checked where it is made: kill, close, umask,
 * the open-file limit, strerror. umask matters because a socket file must be created with its final mode rather
 * than chmod-ed afterwards through a path someone else may have swapped for a symbolic link.
 */
public final class Posix {

    public static final int RLIMIT_NOFILE = 7;

    /** A step that runs with a given umask. */
    public interface Step<T, E extends Exception> {
        T run() throws E;
    }

    private static volatile POSIX posix;

    private Posix() {
    }

    static POSIX posix() {
        POSIX p = posix;
        if (p == null) {
            synchronized (Posix.class) {
                p = posix;
                if (p == null) {
                    p = POSIXFactory.getNativePOSIX();
                    posix = p;
                }
            }
        }
        return p;
    }

    /**
     * Loads jnr-posix, then the project's own binding (LibC), on a thread of its own: jnr's first load costs about
     * half a second on the master's C1-only JVM (docs/platform-notes.md §3), which the first umask() (the control
     * socket's bind) and the first spawn should not wait for.
     */
    public static void preload() {
        Thread loader = new Thread(() -> {
            posix();
            LibC.calls();
        }, "drover-libc-preload");
        loader.setDaemon(true);
        loader.start();
    }

    /**
     * Runs {@code step} with the process umask set to {@code mask}, then restores it. The umask belongs to the
     * whole process, so for that moment it applies to any file another thread creates: the master creates files
     * from the arbiter thread (where binds run) or with explicit modes (leak reports, the pidfile), which a
     * looser umask cannot widen. umask(2) cannot fail.
     */
    public static synchronized <T, E extends Exception> T withUmask(int mask, Step<T, E> step) throws E {
        POSIX p = posix();
        int previous = p.umask(mask);
        try {
            return step.run();
        } finally {
            p.umask(previous);
        }
    }

    /**
     * kill(2); returns null once sent, else why not ("No such process (errno 3)"). Only for a pid known not to be
     * reaped yet: a worker is signalled through its WorkerProcess, never by a bare pid.
     */
    static String kill(long pid, int signal) {
        POSIX p = posix();
        if (p.kill(pid, signal) == 0) {
            return null;
        }
        return "kill(" + pid + ", " + signal + ") failed: " + describeErrno(p.errno());
    }

    /** close(2); returns null, or why it failed. */
    static String close(int fd) {
        POSIX p = posix();
        if (p.close(fd) == 0) {
            return null;
        }
        return "close(" + fd + ") failed: " + describeErrno(p.errno());
    }

    /** dup(2): the new fd, or -errno (EBADF, 9, when {@code fd} is not open). */
    static int dup(int fd) {
        POSIX p = posix();
        int copy = p.dup(fd);
        return copy >= 0 ? copy : -p.errno();
    }

    /** dup2(2); returns null, or why it failed. */
    static String dup2(int from, int to) {
        POSIX p = posix();
        if (p.dup2(from, to) >= 0) {
            return null;
        }
        return "dup2(" + from + ", " + to + ") failed: " + describeErrno(p.errno());
    }

    /** Opens /dev/null (read-only) and puts it on {@code fd}; returns null, or why it failed. */
    static String openDevNullAt(int fd) {
        POSIX p = posix();
        int opened = p.open("/dev/null", jnr.constants.platform.OpenFlags.O_RDONLY.intValue(), 0);
        if (opened < 0) {
            return "open(/dev/null) failed: " + describeErrno(p.errno());
        }
        if (opened == fd) {
            return null;
        }
        String failed = dup2(opened, fd);
        close(opened);
        return failed;
    }

    static String describe(int errno) {
        return describeErrno(errno);
    }

    /** Sets the soft and hard open-file limit; returns null, or why setrlimit failed. */
    static String setOpenFileLimit(long soft, long hard) {
        POSIX p = posix();
        if (p.setrlimit(RLIMIT_NOFILE, soft, hard) == 0) {
            return null;
        }
        return "setrlimit(RLIMIT_NOFILE, " + soft + ", " + hard + ") failed: " + describeErrno(p.errno());
    }

    static String strerror(int errno) {
        return posix().strerror(errno);
    }

    private static String describeErrno(int errno) {
        return strerror(errno) + " (errno " + errno + ")";
    }

    /** The effective uid, read from /proc/self/status (no native call needed). */
    public static long euid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.substring("Uid:".length()).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read this process's uid from /proc/self/status: " + e, e);
        }
        throw new IllegalStateException("/proc/self/status has no Uid: line");
    }
}
