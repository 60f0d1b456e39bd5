package dev.drover.supervisor.os;

import java.util.List;
import java.util.Map;

/**
 * Replaces this process's program with another under the same pid (execve(2)), keeping exactly the listening
 * sockets it names open: every other descriptor above 2 is marked close-on-exec first, because the JDK, Netty and
 * jnr open theirs without it. The other threads of the JVM vanish with the exec; nothing runs after it succeeds.
 */
public final class ExecInPlace {

    private static final long SYS_CLOSE_RANGE = 436;
    private static final long SYS_FCNTL = 72;
    private static final long CLOSE_RANGE_CLOEXEC = 4;
    private static final long F_SETFD = 2;

    private ExecInPlace() {
    }

    /**
     * Marks every fd from 3 up close-on-exec, clears the flag on {@code keep}, and execs {@code argv} (argv[0] is the
     * program's path) with {@code environment}. Returns only if the exec failed: why, in words. The marks stay then,
     * which changes nothing for this JVM (ProcessBuilder closes every fd in its children anyway).
     */
    public static String exec(List<String> argv, Map<String, String> environment, List<Integer> keep) {
        LibC.Calls c = LibC.calls();
        if (c.syscall(SYS_CLOSE_RANGE, 3, 0xFFFF_FFFFL, CLOSE_RANGE_CLOEXEC, 0) != 0) {
            return "close_range(3, ~0, CLOSE_RANGE_CLOEXEC) failed: " + LibC.lastError();
        }
        for (int fd : keep) {
            if (c.syscall(SYS_FCNTL, fd, F_SETFD, 0, 0) != 0) {
                return "fcntl(" + fd + ", F_SETFD, 0) failed: " + LibC.lastError();
            }
        }
        String[] env = environment.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toArray(String[]::new);
        Posix.posix().execve(argv.get(0), argv.toArray(String[]::new), env);
        return "execve(" + argv.get(0) + ") failed: " + Posix.describe(Posix.posix().errno());
    }
}
