package dev.drover.supervisor.arbiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.drover.supervisor.os.WorkerSpawner;
import dev.drover.supervisor.policy.RecyclePolicy;
import dev.drover.supervisor.policy.RecycleReason;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A worker handle's transitions refuse to leave a state they do not start from, and say which. */
class WorkerHandleTest {

    private static WorkerHandle handle(int id) {
        var spec = new WorkerSpawner.Spec(id, 1, "s", 0, List.of(), Optional.empty(), Optional.empty(), false);
        return new WorkerHandle(id, 1, List.of(), new Harness.FakeProcess(5_000_000 + id, spec), "s", 0,
                new RecyclePolicy.Limits(0, 0), false, new WorkerHandle.App("dev.example.App", false));
    }

    @Test
    void aKilledWorkerCannotStartDraining() {
        WorkerHandle w = handle(2);
        w.markKilled(RecycleReason.HANG, "hung", 10);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> w.startDraining(20));
        assertEquals("worker 2 (pid 5000002, gen 1) is killed; cannot start draining from there", e.getMessage());
    }

    @Test
    void onlyABootingWorkerBecomesServing() {
        WorkerHandle w = handle(1);
        w.markServing();
        assertThrows(IllegalStateException.class, w::markServing);
        w.startDraining(5);
        assertThrows(IllegalStateException.class, w::markServing);
    }

    @Test
    void aPairIsMadeOnceAndUndoneFromEitherSide() {
        WorkerHandle old = handle(1);
        WorkerHandle next = handle(1);
        old.pairWith(next);
        assertSame(next, old.replacement());
        assertSame(old, next.replaces());
        assertThrows(IllegalStateException.class, () -> old.pairWith(handle(1)));
        next.unpair();
        assertNull(old.replacement());
        assertNull(next.replaces());
    }
}
