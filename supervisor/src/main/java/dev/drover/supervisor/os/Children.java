package dev.drover.supervisor.os;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
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
    /**
     * Guarded by LOCK: children the program before an exec in place started (InheritedChild), each reaped by its own
     * waitpid(pid) thread: completed once that thread has reaped it.
     */
    private static final Map<Long, CompletableFuture<Void>> inherited = new HashMap<>();
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

    /** An inherited child that its own thread reaps: the orphan reaper leaves it alone until {@code reaped}. */
    static void inherit(long pid, CompletableFuture<Void> reaped) {
        synchronized (LOCK) {
            inherited.put(pid, reaped);
            starts++;
            LOCK.notifyAll();
            reaped.thenRun(() -> {
                synchronized (LOCK) {
                    inherited.remove(pid, reaped);
                }
            });
        }
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
     * For a zombie child {@code pid}: what completes once its own reaper has reaped it, if it has one (the JDK for its
     * Process, an InheritedChild's thread), the caller waiting for that; else null after {@code reap} ran under the
     * lock, so that no start can register the pid in between.
     */
    static CompletableFuture<?> reapUnlessKnown(long pid, Runnable reap) {
        synchronized (LOCK) {
            CompletableFuture<Void> theirs = inherited.get(pid);
            if (theirs != null) {
                return theirs;
            }
            Process jdks = started.get(pid);
            if (jdks != null && !jdks.onExit().isDone()) {
                return jdks.onExit();
            }
            // A Process that is done was reaped already: this zombie is a newer process under a reused pid.
            started.remove(pid, jdks);
            reap.run();
            return null;
        }
    }
}
