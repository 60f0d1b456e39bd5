package dev.drover.supervisor.os;

import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the master does when it is PID 1 of its pid namespace (a container started without an init): reap orphans
 * ({@link OrphanReaper}), and make sure the stop and reload signals reach it. Under tini, dumb-init or docker
 * --init the master is not PID 1 and none of this happens: its init reaps and forwards.
 *
 * <p>The kernel never delivers to PID 1 a signal from its own namespace that has no handler (SIG_DFL is "ignore"
 * there, even for TERM), so every signal an operator or a runtime sends must be caught: TERM, INT and HUP by the
 * master's handlers (Signals), QUIT by the JVM's thread-dump handler (absent under -Xrs).
 *
 * <p>Not PID 1, the master does not make itself a child subreaper (PR_SET_CHILD_SUBREAPER): its init, systemd or
 * tini already reaps what a worker leaves behind, and the rule "under an init nothing changes" holds.
 */
public final class Pid1 {

    private static final Logger log = LoggerFactory.getLogger(Pid1.class);

    /** What `docker stop`, `kubectl delete`, Ctrl-C, a reload and a thread dump send. */
    static final List<String> MUST_BE_CAUGHT = List.of("TERM", "INT", "HUP", "QUIT");

    private Pid1() {
    }

    /** As PID 1: starts the orphan reaper and says so in one line; after the signal handlers are installed. */
    public static void takeOverIfPid1() {
        if (ProcessHandle.current().pid() != 1) {
            return;
        }
        OrphanReaper.start();
        List<String> uncaught = uncaught(Signals.mask("SigCgt:"));
        log.info("running as PID 1: orphans re-parented to the master are reaped; the exit code is the master's own");
        if (!uncaught.isEmpty()) {
            log.warn("running as PID 1 with no handler for SIG{}: the kernel drops such a signal sent to PID 1 from "
                    + "inside its namespace; remove -Xrs from DROVER_JAVA_OPTS, or run under an init (docker run "
                    + "--init, tini)", String.join(", SIG", uncaught));
        }
    }

    /** The signals of {@link #MUST_BE_CAUGHT} whose bit is not set in the SigCgt mask {@code caught}. */
    static List<String> uncaught(long caught) {
        return MUST_BE_CAUGHT.stream()
                .filter(name -> (caught & (1L << (new sun.misc.Signal(name).getNumber() - 1))) == 0)
                .collect(Collectors.toList());
    }
}
