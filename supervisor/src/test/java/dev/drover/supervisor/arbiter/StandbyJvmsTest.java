package dev.drover.supervisor.arbiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drover.link.LinkMessage;
import dev.drover.supervisor.arbiter.Harness.FakeProcess;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Standby JVMs (drover.standby-jvms) in the master's state machine, with a fake clock and fake workers. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class StandbyJvmsTest {

    private static List<FakeProcess> standbys(Harness h) {
        return h.alive().stream().filter(p -> p.spec.standby() && (p.link == null
                || p.link.sent(LinkMessage.Type.ADOPT) == 0)).toList();
    }

    private static LinkMessage adoption(FakeProcess p) {
        return p.link.sent.stream().filter(m -> m.type() == LinkMessage.Type.ADOPT).findFirst().orElseThrow();
    }

    @Test
    void standbysBootOnceEverySlotIsHeldAndWaitWithoutASlotOrAnApp() throws Exception {
        Harness h = new Harness(Map.of("workers", 2, "standby-jvms", 1));
        assertEquals(2, h.spawned.size(), "the workers first: " + h.spawned);
        assertTrue(h.spawned.stream().noneMatch(p -> p.spec.standby()));
        h.settle();
        assertEquals(3, h.spawned.size(), "then one standby: " + h.spawned);
        FakeProcess standby = h.last();
        assertTrue(standby.spec.standby());
        assertEquals(1, h.inState(WorkerState.STANDBY));
        assertEquals(2, h.inState(WorkerState.SERVING));
        assertEquals(1, standby.link.socketHandOvers, "its sockets at HELLO, as any native worker's");
        String status = h.ctl("status").get();
        assertTrue(status.contains("\"state\":\"standby\"") && status.contains("\"standby_jvms\":1"), status);
    }

    @Test
    void aReloadsNewWorkersAreAdoptedStandbysAndNewStandbysBootOnlyOnceItIsComplete() throws Exception {
        Harness h = new Harness(Map.of("workers", 2, "standby-jvms", 2));
        h.settle();
        List<FakeProcess> before = standbys(h);
        assertEquals(2, before.size());
        int spawnedBefore = h.spawned.size();
        h.signal("HUP");
        assertEquals(spawnedBefore, h.spawned.size(), "no JVM started for the reload: " + h.spawned);
        for (FakeProcess p : before) {
            LinkMessage adopt = adoption(p);
            assertEquals("2", adopt.fields().get("generation"), adopt.toString());
            assertEquals("0", adopt.fields().get("spare"));
        }
        assertEquals(List.of("1", "2"), before.stream().map(p -> adoption(p).fields().get("id")).sorted().toList());
        h.settle();
        assertEquals(2, h.workers().stream().filter(w -> w.is(WorkerState.SERVING) && w.generation() == 2).count());
        assertTrue(before.stream().allMatch(p -> h.workers().stream().anyMatch(w -> w.pid() == p.pid
                && w.is(WorkerState.SERVING))), "the adopted standbys serve generation 2");
        h.tick(); // standbys boot at the turn after the reload is complete
        h.settle();
        assertEquals(spawnedBefore + 2, h.spawned.size(), "two new standbys after the reload: " + h.spawned);
        assertEquals(2, standbys(h).size());
    }

    @Test
    void aReloadBeforeTheNewStandbysAttachedSpawnsItsWorkersAndCompletesBesideThem() throws Exception {
        Harness h = new Harness(Map.of("workers", 2, "standby-jvms", 2));
        h.settle();
        h.signal("HUP");
        h.settle();
        h.tick(); // the new standbys are spawned; they have not said HELLO yet
        assertEquals(2, h.inState(WorkerState.STANDBY));
        int spawnedBefore = h.spawned.size();
        h.signal("HUP"); // generation 3, while the standbys (spawned under generation 2) still boot
        assertEquals(spawnedBefore + 2, h.spawned.size(), "its workers are spawned: " + h.spawned);
        h.settle();
        String status = h.ctl("status").get();
        assertTrue(status.contains("\"generation\":3") && status.contains("\"reload\":\"none\""),
                "the reload completed beside the standbys: " + status);
        assertEquals(2, h.inState(WorkerState.STANDBY), "and the standbys wait on for the next one");
    }

    @Test
    void aCrashedWorkersSlotAdoptsAStandby() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "standby-jvms", 1));
        h.settle();
        h.advance(java.time.Duration.ofSeconds(30)); // a worker that dies young is respawned after a backoff
        FakeProcess worker = h.alive().stream().filter(p -> !p.spec.standby()).findFirst().orElseThrow();
        FakeProcess standby = standbys(h).get(0);
        h.exit(worker, 1);
        assertEquals(1, standby.link.sent(LinkMessage.Type.ADOPT), "the empty slot adopts the standby at once: "
                + h.spawned + " " + h.workers());
        assertEquals("1", adoption(standby).fields().get("id"));
        h.settle();
        assertTrue(h.workers().stream().anyMatch(w -> w.pid() == standby.pid && w.is(WorkerState.SERVING)
                && w.id() == 1));
    }

    @Test
    void aReloadThatChangesTheJvmStopsTheStandbysAndSpawnsItsWorkers() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "standby-jvms", 1));
        h.settle();
        FakeProcess standby = standbys(h).get(0);
        h.reloadTo = Harness.settings(Map.of("workers", 1, "standby-jvms", 1, "worker-jvm-options", List.of("-Xmx300m")));
        int spawnedBefore = h.spawned.size();
        h.signal("HUP");
        assertEquals(0, standby.link.sent(LinkMessage.Type.ADOPT), "another JVM: not adopted");
        assertTrue(standby.toldToStop(), "stopped: " + standby.signals);
        assertTrue(h.spawned.size() > spawnedBefore && !h.spawned.get(spawnedBefore).spec.standby(),
                "the new worker is spawned: " + h.spawned);
        h.settle();
        h.tick();
        List<FakeProcess> now = standbys(h);
        assertEquals(1, now.size(), "a standby of the new JVM: " + h.spawned);
        assertFalse(now.get(0) == standby);
    }

    @Test
    void standbysWaitInTheRoomOfTheSurgeSoRecyclesNeverRunMoreThanWorkersPlusMaxSurge() throws Exception {
        Harness h = new Harness(Map.of("workers", 2, "standby-jvms", 1, "max-surge", 1, "max-requests", 100));
        h.settle();
        assertEquals(1, standbys(h).size(), "the standby takes the surge's room while nothing recycles");
        for (int round = 0; round < 6; round++) {
            for (FakeProcess p : h.alive()) {
                if (p.readySent && !p.toldToStop()) {
                    h.stats(p, 100, 0);
                }
                long live = h.inState(WorkerState.BOOTING, WorkerState.SERVING, WorkerState.STANDBY);
                assertTrue(live <= 2 + 1, "live JVMs " + live + " (workers + max-surge is 3): " + h.workers());
            }
            h.settle();
        }
        long adopted = h.spawned.stream().filter(p -> p.spec.standby() && p.link != null
                && p.link.sent(LinkMessage.Type.ADOPT) > 0).count();
        assertTrue(adopted >= 4, "recycles adopted standbys: " + h.spawned);
        assertEquals(adopted, h.spawned.stream().filter(p -> p.spec.standby()).count() - standbys(h).size(),
                "and every replacement was an adopted standby, no JVM boot: " + h.spawned);
    }

    @Test
    void moreStandbysThanMaxSurgeRaiseTheBoundToWorkersPlusStandbys() throws Exception {
        Harness h = new Harness(Map.of("workers", 2, "standby-jvms", 2, "max-surge", 1, "max-requests", 100));
        h.settle();
        assertEquals(2, standbys(h).size());
        for (int round = 0; round < 4; round++) {
            for (FakeProcess p : h.alive()) {
                if (p.readySent && !p.toldToStop()) {
                    h.stats(p, 100, 0);
                }
                assertTrue(h.inState(WorkerState.BOOTING) <= 1, "more than max-surge replacements booting: "
                        + h.workers());
                long live = h.inState(WorkerState.BOOTING, WorkerState.SERVING, WorkerState.STANDBY);
                assertTrue(live <= 2 + 2, "live JVMs " + live + ": " + h.workers());
            }
            h.settle();
        }
    }

    @Test
    void aStandbyIsNeitherReadForMemoryNorPolicedUntilAdopted() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "standby-jvms", 1, "memory.hard-limit", "200M"));
        h.settle();
        FakeProcess standby = standbys(h).get(0);
        standby.rss = 500L << 20; // no app runs there: whatever it is, it is no leak
        for (int i = 0; i < 30; i++) {
            h.advance(java.time.Duration.ofMillis(100));
        }
        assertEquals(0, standby.rssReads, "read " + standby.rssReads + " times");
        assertEquals(List.of(), standby.signals);
        assertEquals(1, h.inState(WorkerState.STANDBY));
    }

    @Test
    void aGracefulStopStopsTheStandbys() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "standby-jvms", 1));
        h.settle();
        FakeProcess standby = standbys(h).get(0);
        h.signal("TERM");
        assertTrue(standby.toldToStop(), standby.signals.toString());
        h.settle();
        assertTrue(h.workers().isEmpty() && h.tick(), "the master stopped: " + h.workers());
    }
}
