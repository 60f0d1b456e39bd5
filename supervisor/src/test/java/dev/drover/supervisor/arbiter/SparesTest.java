package dev.drover.supervisor.arbiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drover.link.LinkMessage;
import dev.drover.supervisor.arbiter.Harness.FakeProcess;
import dev.drover.supervisor.policy.RecycleReason;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Spare workers (drover.spare-workers) in the master's state machine, with a fake clock and fake workers. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class SparesTest {

    private static FakeProcess spare(Harness h) {
        List<FakeProcess> spares = h.alive().stream().filter(p -> p.spec.spare()).toList();
        assertEquals(1, spares.size(), "one spare alive: " + h.spawned);
        return spares.get(0);
    }

    private static FakeProcess slotWorker(Harness h) {
        return h.alive().stream().filter(p -> !p.spec.spare()).findFirst().orElseThrow();
    }

    private static long promotes(FakeProcess p) {
        return p.link == null ? 0 : p.link.sent(LinkMessage.Type.PROMOTE);
    }

    @Test
    void aSpareBootsBesideTheWorkersAndWaitsWithoutASlot() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "spare-workers", 1));
        h.settle();
        assertEquals(2, h.spawned.size(), "the worker and one spare: " + h.spawned);
        assertEquals(1, h.inState(WorkerState.SERVING));
        assertEquals(1, h.inState(WorkerState.SPARE));
        assertEquals(0, spare(h).spec.id(), "a spare holds no slot");
        String status = h.ctl("status").get();
        assertTrue(status.contains("\"state\":\"spare\"") && status.contains("\"spare_workers\":1"), status);
    }

    @Test
    void withASpareReadyAMemoryProjectionCountsItsPromotionNotABoot() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "spare-workers", 1, "memory.hard-limit", "240M"));
        h.settle();
        FakeProcess worker = slotWorker(h);
        FakeProcess spare = spare(h);
        worker.rss = 96L << 20;
        while (promotes(spare) == 0 && worker.rss < (240L << 20)) {
            worker.rss += (27L << 20) / 10; // 27 MiB/s, read every 100 ms
            h.advance(Duration.ofMillis(100));
        }
        WorkerHandle old = h.workers().stream().filter(w -> w.pid() == worker.pid).findFirst().orElseThrow();
        assertEquals(RecycleReason.MEMORY_PROJECTED, old.recycleReason());
        // Its promotion (0.1 s) + the drain and exit (0.5 + 0.5 s), + 25 % + two 25 ms readings: ~1.4 s, not a boot.
        assertTrue(old.recycleWhy().contains("a replacement needs ~1.4s"), old.recycleWhy());
        assertTrue(worker.rss > (190L << 20), "marked once the limit is ~1.4 s away: " + (worker.rss >> 20));
        assertEquals(1, promotes(spare), "the spare takes its place");
    }

    @Test
    void aCrashedWorkersSlotGoesToTheSpareAtOnceDespiteBackoffAndANewSpareBootsAfterIt() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "spare-workers", 1));
        h.settle();
        FakeProcess spare = spare(h);
        h.exit(slotWorker(h), 1); // young: crash backoff for the next spawn
        assertEquals(1, promotes(spare), "promoted at once, before the backoff is over");
        WorkerHandle promoted = h.workers().stream().filter(w -> w.pid() == spare.pid).findFirst().orElseThrow();
        assertEquals(1, promoted.id());
        assertTrue(promoted.is(WorkerState.SERVING));
        assertEquals(2, h.spawned.size(), "the new spare waits for the backoff: " + h.spawned);
        h.tick();
        assertEquals(3, h.spawned.size(), "a new spare after the backoff: " + h.spawned);
        assertTrue(h.last().spec.spare());
        h.settle();
        assertEquals(1, h.inState(WorkerState.SERVING));
        assertEquals(1, h.inState(WorkerState.SPARE));
    }

    @Test
    void aPlannedRecycleDrainsTheOldWorkerOnlyOnceThePromotedSpareAccepts() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "spare-workers", 1, "max-requests", 5));
        h.settle();
        FakeProcess old = slotWorker(h);
        FakeProcess spare = spare(h);
        h.stats(old, 5, 0);
        assertEquals(1, promotes(spare));
        assertEquals(0, old.link.sent(LinkMessage.Type.DRAIN), "the old worker drained before the spare accepts");
        assertTrue(h.spawned.stream().noneMatch(p -> !p.spec.spare() && p != old), "a replacement booted: "
                + h.spawned);
        h.tick();
        assertEquals(0, old.link.sent(LinkMessage.Type.DRAIN), "drained without PROMOTED");
        h.promoted(spare);
        assertEquals(1, old.link.sent(LinkMessage.Type.DRAIN));
        assertEquals(1, h.arbiterWorkers().recycles(RecycleReason.MAX_REQUESTS));
        h.settle();
        assertTrue(old.exited);
        assertEquals(1, h.inState(WorkerState.SERVING));
        assertEquals(1, h.inState(WorkerState.SPARE), "the spare is restored: " + h.spawned);
    }

    @Test
    void aPromotedSparesLifetimeCountsFromItsPromotion() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "spare-workers", 1, "max-lifetime", "10s"));
        h.settle();
        FakeProcess spare = spare(h);
        h.advance(Duration.ofSeconds(8));
        h.exit(slotWorker(h), 1);
        assertEquals(1, promotes(spare));
        h.advance(Duration.ofSeconds(5)); // 13 s since its spawn, 5 since its promotion
        WorkerHandle promoted = h.workers().stream().filter(w -> w.pid() == spare.pid).findFirst().orElseThrow();
        assertEquals(null, promoted.recycleReason(), "recycled on an age that counts its wait as a spare");
    }

    @Test
    void oldGenerationSparesStopAtAReloadAndNeverFillANewGenerationsSlot() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "spare-workers", 1));
        h.settle();
        FakeProcess oldSpare = spare(h);
        FakeProcess oldWorker = slotWorker(h);
        h.signal("HUP");
        assertTrue(oldSpare.toldToStop(), "the old generation's spare is stopped at the reload's start");
        h.exit(oldWorker, 1); // the old worker crashes while the old spare is still there
        assertEquals(0, promotes(oldSpare), "an old-generation spare was promoted");
        assertTrue(h.spawned.stream().noneMatch(p -> p.spec.spare() && p.generation() == 2),
                "a new spare before the reload is complete: " + h.spawned);
        h.settle();
        h.tick();
        h.settle();
        assertTrue(h.alive().stream().allMatch(p -> p.generation() == 2), "only generation 2 left: " + h.alive());
        assertEquals(1, h.inState(WorkerState.SERVING));
        assertEquals(1, h.inState(WorkerState.SPARE), "generation 2 gets its spare once complete: " + h.spawned);
    }

    @Test
    void aGracefulStopStopsTheSparesFirst() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "spare-workers", 1));
        h.settle();
        FakeProcess spare = spare(h);
        h.signal("TERM");
        assertTrue(spare.toldToStop());
        h.settle();
        assertTrue(h.workers().isEmpty() && h.tick(), "the master stopped: " + h.workers());
    }

    @Test
    void recyclesOfEveryWorkerAtOnceNeverRunMoreThanWorkersPlusSparesPlusMaxSurge() throws Exception {
        Harness h = new Harness(Map.of("workers", 3, "spare-workers", 1, "max-surge", 1, "max-requests", 10));
        h.settle();
        List<FakeProcess> first = List.copyOf(h.alive());
        first.stream().filter(p -> !p.spec.spare()).forEach(p -> h.stats(p, 10, 0));
        for (int step = 0; step < 200 && first.stream().anyMatch(p -> !p.exited && !p.spec.spare()); step++) {
            assertTrue(h.inState(WorkerState.BOOTING, WorkerState.SERVING, WorkerState.SPARE) <= 3 + 1 + 1,
                    "more than workers + spare-workers + max-surge JVMs: " + h.workers());
            FakeProcess next = h.alive().stream().filter(p -> p.link == null || p.toldToStop()
                    || (promotes(p) > 0 && !p.signals.contains("promoted"))).findFirst()
                    .orElseThrow(() -> new AssertionError("nothing to do, old workers left: " + h.alive()));
            if (next.link == null) {
                h.boot(next);
            } else if (next.toldToStop()) {
                h.exit(next, 0);
            } else {
                next.signals.add("promoted"); // (a marker: it answered PROMOTED)
                h.promoted(next);
            }
        }
        assertTrue(first.stream().filter(p -> !p.spec.spare()).allMatch(p -> p.exited), "replaced: " + h.spawned);
        h.settle();
        assertEquals(3, h.inState(WorkerState.SERVING));
        assertEquals(1, h.inState(WorkerState.SPARE));
        assertEquals(3, h.arbiterWorkers().recycles(RecycleReason.MAX_REQUESTS));
    }
}
