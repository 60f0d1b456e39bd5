package dev.drover.supervisor.os;

import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.SaveError;

/**
 * The libc calls jnr-posix lacks or gets wrong, bound with jnr-ffi (everything else is in Posix, through
 * jnr-posix). signal(): jnr-posix only installs a Java callback as the handler, and the master needs to put back
 * SIG_DFL, a constant, for a signal it inherited ignored. syscall(): pidfd_open and pidfd_send_signal (Pidfd),
 * which neither jnr-posix nor the JDK offer. getsockopt(): what an inherited fd is (InheritedSocket) and a
 * listening socket's accept queue (ListenQueue); getgrouplist(): a user's groups (Credentials); unsetenv():
 * systemd's variables out of the master's own environment (SystemdEnvironment); waitid() and waitpid(): orphans
 * reaped as PID 1 (OrphanReaper), which needs waitid's WNOWAIT peek that jnr-posix lacks. Loaded on first use: jnr's first call costs ~0.5 s (docs/platform-notes.md §3), so
 * Posix.preload starts it early.
 */
public final class LibC {

    /** The binding; jnr-ffi generates it at load time. */
    public interface Calls {
        /** Returns the previous handler, or SIG_ERR with errno set. */
        @SaveError
        long signal(int signal, long handler);

        /**
         * syscall(2) is variadic; declaring its integer-only forms as fixed is sound on x86_64 because glibc's
         * syscall() only moves registers and never reads the vector-count register a variadic call sets.
         */
        @SaveError
        long syscall(long number, long arg1, long arg2);

        @SaveError
        long syscall(long number, long arg1, long arg2, long arg3, long arg4);

        int unsetenv(String name);

        /** Reads an option into {@code value}; {@code length} holds its size in bytes going in (4: an int option). */
        @SaveError
        int getsockopt(int fd, int level, int option, int[] value, int[] length);

        /** The groups {@code user} belongs to, {@code group} included; -1 with {@code count} set when too few fit. */
        int getgrouplist(String user, int group, int[] groups, int[] count);

        /** {@code info}: a siginfo_t (128 bytes, 32 ints); si_pid is int 4 on 64-bit Linux. (OrphanReaper) */
        @SaveError
        int waitid(int idType, int id, int[] info, int options);

        @SaveError
        int waitpid(int pid, int[] status, int options);
    }

    public static final int SIGHUP = 1;
    public static final int SIGINT = 2;
    public static final int SIGQUIT = 3;
    public static final int SIGKILL = 9;
    public static final int SIGTERM = 15;
    public static final long SIG_DFL = 0;
    public static final long SIG_ERR = -1;

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

    /** The errno of the last call made through this binding on this thread (each call above saves it). */
    public static int lastErrno() {
        return jnr.ffi.LastError.getLastError(jnr.ffi.Runtime.getRuntime(calls()));
    }

    /** The reason the last call made through this binding on this thread failed: "Operation not permitted (errno 1)". */
    public static String lastError() {
        return describe(lastErrno());
    }

    public static String describe(int errno) {
        return Posix.strerror(errno) + " (errno " + errno + ")";
    }
}
