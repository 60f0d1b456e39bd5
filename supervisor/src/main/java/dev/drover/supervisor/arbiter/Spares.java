package dev.drover.supervisor.arbiter;

import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spare workers (drover.spare-workers): booted JVMs of the current generation that wait, READY and not
 * accepting, until a slot needs a new worker; then one is promoted into it instead of a JVM boot, and another spare
 * is spawned to restore the count. Run on the arbiter thread; Workers owns the table and every spawn and signal.
 */
final class Spares {

    private static final Logger log = LoggerFactory.getLogger(Spares.class);

    private final Workers workers;

    Spares(Workers workers) {
        this.workers = workers;
    }

    /**
     * Promotes a READY spare of {@code generation} into slot {@code slot}, if there is one; {@code old}: the worker it
     * replaces in a planned recycle (it drains once the spare says PROMOTED), null for a slot that is empty. Never
     * waits for crash backoff: the spare is booted already. Returns whether a spare was promoted.
     */
    boolean promote(int slot, int generation, WorkerHandle old, String reason) {
        WorkerHandle spare = workers.readySpare(generation);
        if (spare == null) {
            return false;
        }
        WorkerHandle before = old != null ? old : workers.lastInSlot(slot);
        workers.promote(spare, slot, old);
        long ready = workers.readySpares(generation);
        log.info("{} promoted from spare to replace {} ({}); {} spare(s) left, {} booting, and one more boots in its "
                + "place", spare, before == null ? "nothing (slot " + slot + " was empty)" : before, reason, ready,
                workers.spares(generation) - ready);
        return true;
    }

    /**
     * Keeps {@code wanted} spares of {@code generation}: stops any of an older generation or beyond the count, and
     * spawns the missing ones (under the crash backoff like any spawn) once every slot is held, while the JVMs
     * stay within {@code maxJvms} (workers + spare-workers + max-surge).
     */
    void keep(int generation, int wanted, boolean slotsHeld, long maxJvms) {
        retire(generation, wanted);
        if (!slotsHeld) {
            return; // the slots' own workers first
        }
        while (workers.spares(generation) < wanted && workers.live() < maxJvms && workers.mayRespawnNow()) {
            if (workers.spawnSpare() == null) {
                return;
            }
        }
    }

    /** Stops spares of an older generation (a reload: they never accepted) and those beyond {@code wanted}. */
    private void retire(int generation, int wanted) {
        List<WorkerHandle> spares = workers.all().stream()
                .filter(w -> w.isSpare() && (w.is(WorkerState.BOOTING) || w.is(WorkerState.SPARE)))
                .sorted(Comparator.comparing((WorkerHandle w) -> w.generation() != generation)
                        .thenComparing(w -> !w.is(WorkerState.SPARE)))
                .toList();
        int kept = 0;
        for (WorkerHandle w : spares) {
            if (w.generation() == generation && kept < wanted) {
                kept++;
                continue;
            }
            log.info("{} stopped: {} (a spare never accepted a connection)", w, w.generation() != generation
                    ? "generation " + generation + " replaces generation " + w.generation()
                    : wanted + " spare(s) wanted (drover.spare-workers, 0 while paused or reloading)");
            workers.drain(w, null);
        }
    }
}
