package dev.drover.supervisor.arbiter;

import java.util.ArrayList;
import java.util.List;

/**
 * What the arbiter tells observers outside it (systemd's notify socket, metrics) about the master's life: the workers
 * serving, each reload's start and outcome, the stop, and each turn of its loop. Called on the arbiter thread only;
 * an observer must return at once and never throw (it cannot stop the loop).
 */
public interface LifecycleListener {

    /** After a turn that changed something: how many workers serve, how many are wanted, the newest generation. */
    default void workersChanged(int serving, int wanted, int generation) {
    }

    /** A reload (HUP or `drover ctl reload`) begins: before its configuration is read. */
    default void reloadStarted() {
    }

    /** How the reload ended: complete, abandoned (its canary failed) or refused (bad configuration), in words. */
    default void reloadEnded(ReloadOutcome outcome, String summary) {
    }

    /** The master begins to stop (graceful or quick). */
    default void stopping(String why) {
    }

    /** At the start of every turn of the loop, even one with no event: a stuck loop calls nothing. */
    default void loopTurned(long now) {
    }

    /** How long the loop may wait, from {@code now}, before this listener wants a turn; Long.MAX_VALUE: no wish. */
    default long nanosUntilDue(long now) {
        return Long.MAX_VALUE;
    }

    /** The ways a reload ends. */
    enum ReloadOutcome { COMPLETE, ABANDONED, REFUSED }

    /** Every registered listener, called in the order they were added. */
    final class All implements LifecycleListener {
        private final List<LifecycleListener> listeners = new ArrayList<>();

        void add(LifecycleListener listener) {
            listeners.add(listener);
        }

        @Override
        public void workersChanged(int serving, int wanted, int generation) {
            listeners.forEach(l -> l.workersChanged(serving, wanted, generation));
        }

        @Override
        public void reloadStarted() {
            listeners.forEach(LifecycleListener::reloadStarted);
        }

        @Override
        public void reloadEnded(ReloadOutcome outcome, String summary) {
            listeners.forEach(l -> l.reloadEnded(outcome, summary));
        }

        @Override
        public void stopping(String why) {
            listeners.forEach(l -> l.stopping(why));
        }

        @Override
        public void loopTurned(long now) {
            listeners.forEach(l -> l.loopTurned(now));
        }

        @Override
        public long nanosUntilDue(long now) {
            return listeners.stream().mapToLong(l -> l.nanosUntilDue(now)).min().orElse(Long.MAX_VALUE);
        }
    }
}
