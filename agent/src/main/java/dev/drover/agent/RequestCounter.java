package dev.drover.agent;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Counts the server's requests: how many began, which are still in flight and since when, and the actions waiting
 * for the count to reach a number (max-requests). Knows nothing of servers; the hooks feed it.
 */
final class RequestCounter {
    private final LongSupplier nanoClock;
    private final AtomicLong begun = new AtomicLong();
    /** Requests begun while warming up: in flight like any other, never in {@link #requests()}. */
    private final AtomicLong warmUps = new AtomicLong();
    private volatile boolean warmingUp;
    private final Set<InFlight> inflight = ConcurrentHashMap.newKeySet();
    private final List<Pending> pending = new ArrayList<>();
    /** The smallest count a pending action waits for: the request path takes the lock only when it reaches it. */
    private volatile long nextAction = Long.MAX_VALUE;
    private final Object idleSignal = new Object();
    /** Told the duration and status of each counted request as it ends (the worker's histogram); or null. */
    private volatile ServerView.RequestEnded durations;

    RequestCounter(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /**
     * A request began: counts it and runs, on this thread, the actions its number reaches. While warming up it is
     * only in flight, not counted.
     */
    InFlight begin() {
        boolean warmUp = warmingUp;
        InFlight request = new InFlight(nanoClock.getAsLong(), !warmUp);
        inflight.add(request);
        if (warmUp) {
            warmUps.incrementAndGet();
            return request;
        }
        long count = begun.incrementAndGet();
        if (count >= nextAction) {
            runDueActions();
        }
        return request;
    }

    long requests() {
        return begun.get();
    }

    /** From now on, {@code listener} is told of every counted request that ends. */
    void timeRequests(ServerView.RequestEnded listener) {
        durations = listener;
    }

    /**
     * From {@code true} until {@code false}, requests that begin are warm-up requests: they count toward neither
     * {@link #requests()} nor the actions of {@link #notifyAt}.
     */
    void warmingUp(boolean on) {
        warmingUp = on;
    }

    /** Requests begun while warming up. */
    long warmUps() {
        return warmUps.get();
    }

    int inflight() {
        return inflight.size();
    }

    long oldestInflightMillis() {
        long now = nanoClock.getAsLong();
        long oldest = 0;
        for (InFlight request : inflight) {
            oldest = Math.max(oldest, (now - request.startedNanos) / 1_000_000);
        }
        return oldest;
    }

    /** Runs {@code action} once when the count reaches {@code count}: at once, here, if it already has. */
    void notifyAt(long count, Runnable action) {
        synchronized (pending) {
            pending.add(new Pending(count, action));
            nextAction = Math.min(nextAction, count);
        }
        // A request that counted past the mark before nextAction was lowered did not see it: catch up here.
        if (begun.get() >= nextAction) {
            runDueActions();
        }
    }

    /** Waits until no request is in flight, or the deadline (System.nanoTime) passes; true if none is. */
    boolean awaitIdle(long deadlineNanos) throws InterruptedException {
        synchronized (idleSignal) {
            while (!inflight.isEmpty()) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                idleSignal.wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }
    }

    private void runDueActions() {
        List<Runnable> due = new ArrayList<>();
        synchronized (pending) {
            long count = begun.get();
            long next = Long.MAX_VALUE;
            for (var it = pending.iterator(); it.hasNext(); ) {
                Pending p = it.next();
                if (p.count <= count) {
                    due.add(p.action);
                    it.remove();
                } else {
                    next = Math.min(next, p.count);
                }
            }
            nextAction = next;
        }
        for (Runnable action : due) {
            try {
                action.run();
            } catch (RuntimeException e) { // on a request thread of the app's server: never let it fail the request
                System.err.println("drover agent: an action at request " + begun.get() + " failed: " + e);
            }
        }
    }

    private record Pending(long count, Runnable action) {
    }

    /**
     * One request in flight; {@link #end} (or {@link #run()}, status unknown) ends it, once, however many paths reach
     * the end.
     */
    final class InFlight implements Runnable {
        private final long startedNanos;
        private final boolean counted;
        private final AtomicBoolean ended = new AtomicBoolean();

        private InFlight(long startedNanos, boolean counted) {
            this.startedNanos = startedNanos;
            this.counted = counted;
        }

        long ageMillis() {
            return (nanoClock.getAsLong() - startedNanos) / 1_000_000;
        }

        @Override
        public void run() {
            end(0);
        }

        /** Ends the request, answered with {@code status} (0 when the hook could not read it). */
        void end(int status) {
            if (ended.compareAndSet(false, true)) {
                ServerView.RequestEnded listener = durations;
                if (listener != null && counted) {
                    listener.ended(nanoClock.getAsLong() - startedNanos, status);
                }
                inflight.remove(this);
                if (inflight.isEmpty()) {
                    synchronized (idleSignal) {
                        idleSignal.notifyAll();
                    }
                }
            }
        }
    }
}
