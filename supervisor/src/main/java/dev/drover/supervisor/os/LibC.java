package dev.drover.supervisor.os;

import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;

/**
 * The few libc calls the JDK lacks: signals other than TERM/KILL, resetting a signal the master inherited as
 * ignored, the open-file limit and the
 * file-creation mask (Posix). Loaded on first use: jnr's first call costs ~0.5 s (research/jvm-platform-facts.md §5).
 */
public final class LibC {

    /** The binding; jnr-ffi generates it at load time. */
    public interface Calls {
        int kill(long pid, int signal);

        long signal(int signal, long handler);

        /** {@code limits}: the soft limit, then the hard one (struct rlimit). */
        @SaveError
        int getrlimit(int resource, @Out long[] limits);

        @SaveError
        int setrlimit(int resource, @In long[] limits);

        String strerror(int errno);

        /** Sets the file-creation mask; returns the previous one (it cannot fail). */
        int umask(int mask);
    }

    public static final int RLIMIT_NOFILE = 7;

    public static final int SIGHUP = 1;
    public static final int SIGINT = 2;
    public static final int SIGQUIT = 3;
    public static final int SIGKILL = 9;
    public static final int SIGTERM = 15;
    public static final long SIG_DFL = 0;

    private static volatile Calls calls;

    private LibC() {
    }

    public static Calls calls() {
        Calls c = calls;
        if (c == null) {
            synchronized (LibC.class) {
                c = calls;
                if (c == null) {
                    c = LibraryLoader.create(Calls.class).load("c");
                    calls = c;
                }
            }
        }
        return c;
    }

    /** The reason the last call made on this thread failed, as strerror says it. */
    public static String lastError() {
        Calls c = calls();
        return c.strerror(jnr.ffi.LastError.getLastError(jnr.ffi.Runtime.getRuntime(c)));
    }

    /** Sends {@code signal} to {@code pid}; returns false if the process is already gone. */
    public static boolean kill(long pid, int signal) {
        return calls().kill(pid, signal) == 0;
    }
}
