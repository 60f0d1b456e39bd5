package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process credentials and file-creation mask, which the JDK does not expose: the effective uid (whose files
 * are "ours") and umask(2), set around a bind() so a socket file is created with its final mode rather than
 * chmod-ed afterwards through a path someone else may have swapped for a symbolic link.
 */
public final class Posix {

    /** A step that runs with a given umask. */
    public interface Step<T, E extends Exception> {
        T run() throws E;
    }

    private Posix() {
    }

    /**
     * Loads the libc binding (LibC) on a thread of its own, so the first umask() does not wait for jnr-ffi's
     * binding generation (100-200 ms on the master's C1-only JVM).
     */
    public static void preload() {
        Thread loader = new Thread(LibC::calls, "drover-libc-preload");
        loader.setDaemon(true);
        loader.start();
    }

    /**
     * Runs {@code step} with the process umask set to {@code mask}, then restores it. The umask belongs to the
     * whole process, so for that moment it applies to any file another thread creates: the master creates files
     * from the arbiter thread (where binds run) or with explicit modes (leak reports, the pidfile), which a
     * looser umask cannot widen.
     */
    public static synchronized <T, E extends Exception> T withUmask(int mask, Step<T, E> step) throws E {
        LibC.Calls c = LibC.calls();
        int previous = c.umask(mask);
        try {
            return step.run();
        } finally {
            c.umask(previous);
        }
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
