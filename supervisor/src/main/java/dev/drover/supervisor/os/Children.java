package dev.drover.supervisor.os;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The register of the children the master started through the JDK (workers, AppCDS runs, extractions, the JVM
 * options check): every start goes through {@link #start}, so that {@link OrphanReaper} can tell a child the JDK
 * waits for (never touched) from an orphan the kernel re-parented to the master (reaped).
 *
 * <p>The JDK's reaper thread waits for each child it started with waitpid(pid): a status taken by anyone else is
 * lost to it (it reports 0, or ECHILD). A child is registered under the same lock as its start, and a pid leaves
 * the register only after the JDK has reaped it (its onExit completed); so a zombie whose pid is not registered,
 * looked at under that lock, cannot be one the JDK will wait for, even if it exited before start() returned.
 */
public final class Children {

    /** Something that starts one or more processes with ProcessBuilder.start(). */
    public interface Start<T> {
        T run() throws IOException;
    }

    private static final Object LOCK = new Object();
    /** Guarded by LOCK: pid to the JDK's Process, until the JDK has reaped it. */
    private static final Map<Long, Process> started = new HashMap<>();
    /** Guarded by LOCK: starts so far, so that the reaper can sleep while the master has no child at all. */
    private static long starts;

    private Children() {
    }

    /** Runs {@code start} and registers the process {@code process} finds in its result, as one step. */
    public static <T> T start(Start<T> start, Function<T, Process> process) throws IOException {
        synchronized (LOCK) {
            T result = start.run();
            Process p = process.apply(result);
            started.put(p.pid(), p);
            starts++;
            LOCK.notifyAll();
            // The JDK completes onExit once it has reaped the child; only then may its pid be an orphan's.
            p.onExit().thenRun(() -> forget(p));
            return result;
        }
    }

    /** {@link #start} for a plain ProcessBuilder.start(). */
    public static Process start(Start<Process> start) throws IOException {
        return start(start, p -> p);
    }

    private static void forget(Process p) {
        synchronized (LOCK) {
            started.remove(p.pid(), p);
        }
    }

    /** How many starts so far; see {@link #awaitStartAfter}. */
    static long starts() {
        synchronized (LOCK) {
            return starts;
        }
    }

    /** Blocks until a start after the {@code seen}-th one (a master without children gets no orphans before). */
    static void awaitStartAfter(long seen) throws InterruptedException {
        synchronized (LOCK) {
            while (starts == seen) {
                LOCK.wait();
            }
        }
    }

    /**
     * For a zombie child {@code pid}: the JDK's Process if the JDK will reap it (the caller waits for that), else
     * null after {@code reap} ran under the lock, so that no start can register the pid in between.
     */
    static Process reapUnlessJdks(long pid, Runnable reap) {
        synchronized (LOCK) {
            Process jdks = started.get(pid);
            if (jdks != null && !jdks.onExit().isDone()) {
                return jdks;
            }
            // A Process that is done was reaped already: this zombie is a newer process under a reused pid.
            started.remove(pid, jdks);
            reap.run();
            return null;
        }
    }
}
