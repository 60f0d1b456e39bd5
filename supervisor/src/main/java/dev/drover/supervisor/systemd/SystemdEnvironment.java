package dev.drover.supervisor.systemd;

import dev.drover.supervisor.os.LibC;
import java.util.List;
import java.util.Map;

/**
 * The environment variables through which systemd talks to the master alone. No child may see them: a worker that
 * saw NOTIFY_SOCKET could tell systemd it is ready or stopping, and one that saw LISTEN_PID and LISTEN_FDS would
 * take fds 3.. for sockets that are not there.
 */
public final class SystemdEnvironment {

    public static final List<String> NAMES = List.of("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
            "WATCHDOG_USEC", "WATCHDOG_PID");

    private SystemdEnvironment() {
    }

    /** Removes them from a child's environment (a ProcessBuilder's copy of the master's). */
    public static void scrub(Map<String, String> childEnvironment) {
        NAMES.forEach(childEnvironment::remove);
    }

    /**
     * Removes them from the process's own environment too, once read, so that native code and tools that read
     * environ do not see them. The JDK keeps its own copy (System.getenv, ProcessBuilder), hence {@link #scrub}.
     */
    public static void unsetInProcess() {
        for (String name : NAMES) {
            LibC.calls().unsetenv(name);
        }
    }
}
