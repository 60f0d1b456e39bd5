package dev.drover.supervisor.os;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reaps the orphans the kernel re-parents to the master when it is PID 1 (a container without an init): a
 * worker's own subprocess whose parent died would otherwise stay a zombie for the container's life. Never takes the
 * exit status of a child the JDK waits for ({@link Children}).
 *
 * <p>How: one thread blocks in waitid(P_ALL, WEXITED | WNOWAIT), which reports a zombie child without reaping it.
 * An unregistered pid is reaped with waitpid(pid, WNOHANG); for a registered one the thread waits until the JDK has
 * reaped it (waitid would report the same zombie again), then looks again. Reaping happens on this thread, never in
 * a signal handler, and needs no SIGCHLD handler (the JVM's own process reaper does not use one either).
 * A plain waitpid(-1) loop, as tini has, would race the JDK's reaper threads for the workers' statuses.
 */
final class OrphanReaper implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(OrphanReaper.class);

    static final int P_ALL = 0;
    static final int WNOHANG = 1;
    static final int WEXITED = 4;
    static final int WNOWAIT = 0x01000000;
    static final int EINTR = 4;
    static final int ECHILD = 10;
    /** siginfo_t as ints: si_pid is the fifth (offset 16) on 64-bit Linux. */
    private static final int SIGINFO_INTS = 32;
    private static final int SI_PID = 4;

    private final int[] info = new int[SIGINFO_INTS];
    private final int[] status = new int[1];

    /** Starts the reaper thread (a daemon: it must never keep the master from exiting). */
    static void start() {
        Thread thread = new Thread(new OrphanReaper(), "drover-orphan-reaper");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void run() {
        try {
            while (reapNext()) {
                // each turn reaps one orphan, or waits for the JDK to reap its own child
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One zombie dealt with; false if waitid failed in a way that will not pass (logged). */
    private boolean reapNext() throws InterruptedException {
        long seen = Children.starts();
        if (LibC.calls().waitid(P_ALL, 0, info, WEXITED | WNOWAIT) != 0) {
            return waitidFailed(LibC.lastErrno(), seen);
        }
        long pid = info[SI_PID];
        CompletableFuture<?> known = Children.reapUnlessKnown(pid, () -> reap(pid));
        if (known != null) {
            awaitReap(pid, known);
        }
        return true;
    }

    /** ECHILD: no child at all, so no orphan can come before the next start. EINTR: again. */
    private static boolean waitidFailed(int errno, long seen) throws InterruptedException {
        if (errno == ECHILD) {
            Children.awaitStartAfter(seen);
            return true;
        }
        if (errno == EINTR) {
            return true;
        }
        log.error("waitid(P_ALL, WEXITED | WNOWAIT) failed: {}; orphans re-parented to this master (PID 1) are no "
                + "longer reaped and stay zombies; run it under an init (docker run --init, tini)", LibC.describe(errno));
        return false;
    }

    private void reap(long pid) {
        int reaped = LibC.calls().waitpid((int) pid, status, WNOHANG);
        if (reaped == pid) {
            log.debug("reaped orphan pid {} ({})", pid, ExitStatus.describe(asExitCode(status[0])));
        } else if (reaped < 0 && LibC.lastErrno() != ECHILD) {
            log.warn("waitpid({}, WNOHANG) of an orphan failed: {}", pid, LibC.lastError());
        }
    }

    /** A wait status as the JDK reports one: the exit code, or 128 + the signal that killed it. */
    static int asExitCode(int waitStatus) {
        int signal = waitStatus & 0x7f;
        return signal == 0 ? (waitStatus >> 8) & 0xff : 128 + signal;
    }

    /** The JDK's reaper thread takes this child's status at once; the wait is bounded so that a stuck one is seen. */
    private static void awaitReap(long pid, CompletableFuture<?> reaped) throws InterruptedException {
        try {
            reaped.get(10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            log.warn("the reaper of child pid {} (the JDK's, or an inherited child's) has not reaped it 10 s after it "
                    + "exited; waiting on", pid);
        } catch (ExecutionException e) {
            log.warn("waiting for child pid {} to be reaped: {}", pid, e.getCause().toString());
        }
    }
}
