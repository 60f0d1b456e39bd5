package dev.drover.worker.runtime;

import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The one thread that owns a worker's lifecycle state: the control link's event loop. Every other thread posts
 * tasks to it. The loop is created while the worker boots, and a signal can come before it exists (a TERM to a
 * worker the master no longer needs): such tasks wait here and run first, in order, once the loop is known.
 */
final class OwnerLoop implements WorkerLifecycle.Owner {

    private final Object lock = new Object();
    private List<Runnable> early = new ArrayList<>();
    private volatile EventExecutor loop;

    /** Runs {@code task} on the owner thread, later; never on the caller's thread, even if that is the owner. */
    @Override
    public void post(Runnable task) {
        EventExecutor known = loop;
        if (known == null) {
            synchronized (lock) {
                if (loop == null) {
                    early.add(task);
                    return;
                }
                known = loop;
            }
        }
        known.execute(task);
    }

    /** From now on tasks run on {@code executor}, those posted so far first. */
    void start(EventExecutor executor) {
        synchronized (lock) {
            early.forEach(executor::execute);
            early = null;
            loop = executor;
        }
    }

    /** Runs {@code task} on the owner thread every {@code periodMs}; only once {@link #start} has run. */
    @Override
    public void every(long periodMs, Runnable task) {
        loop.scheduleAtFixedRate(task, periodMs, periodMs, TimeUnit.MILLISECONDS);
    }
}
