package dev.drover.supervisor.arbiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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

/**
 * The master's state machine, driven event by event with a fake clock and fake workers (Harness): the rules that
 * decide how many workers run, which are replaced, and when they are killed.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class ArbiterTest {

    @Test
    void plannedRecyclesOfEveryWorkerAtOnceNeverRunMoreThanWorkersPlusMaxSurge() throws Exception {
        Harness h = new Harness(Map.of("workers", 4, "max-surge", 1, "max-requests", 10));
        h.settle();
        List<FakeProcess> first = List.copyOf(h.alive());
        assertEquals(4, first.size());
        first.forEach(p -> h.stats(p, 10, 0)); // every worker reaches its request limit in the same second
        int limit = 4 + 1;
        for (int step = 0; step < 200 && first.stream().anyMatch(p -> !p.exited); step++) {
            assertTrue(h.inState(WorkerState.BOOTING, WorkerState.SERVING) <= limit,
                    "more than workers + max-surge booting or serving: " + h.workers());
            assertTrue(h.inState(WorkerState.BOOTING) <= 1, "more than max-surge replacements booting: " + h.workers());
            FakeProcess next = h.alive().stream().filter(p -> p.link == null || p.toldToStop()).findFirst()
                    .orElseThrow(() -> new AssertionError("nothing to do, old workers left: " + h.alive()));
            if (next.link == null) {
                h.boot(next);
            } else {
                h.exit(next, 0);
            }
        }
        assertTrue(first.stream().allMatch(p -> p.exited), "every old worker was replaced: " + h.spawned);
        assertEquals(4, h.inState(WorkerState.SERVING));
        assertEquals(8, h.spawned.size(), "one replacement each, no more: " + h.spawned);
        assertEquals(4, h.arbiter.workers().recycles(RecycleReason.MAX_REQUESTS));
    }

    @Test
    void aFailedCanaryLeavesTheOldGenerationUntouched() throws Exception {
        Harness h = new Harness(Map.of("workers", 2, "reload-canary", "alone"));
        h.settle();
        List<FakeProcess> old = List.copyOf(h.alive());
        h.signal("HUP");
        FakeProcess canary = h.last();
        assertEquals(2, canary.generation());
        assertEquals(3, h.spawned.size(), "one canary, nothing else");

        h.exit(canary, 1); // it cannot boot
        for (int i = 0; i < 5; i++) {
            h.tick();
        }
        assertEquals(3, h.spawned.size(), "no further worker of the abandoned generation: " + h.spawned);
        assertEquals(1, h.arbiter.generations().current().number());
        for (FakeProcess p : old) {
            assertEquals(List.of(), p.signals, p + " was signalled");
            assertEquals(0, p.link.sent(LinkMessage.Type.DRAIN), p + " was drained");
        }
        assertEquals(2, h.inState(WorkerState.SERVING));
        assertTrue(h.workers().stream().allMatch(w -> w.generation() == 1 && w.recycleReason() == null
                && w.replacement() == null), "the old workers are as they were: " + h.workers());
        assertTrue(canary.released, "the canary's pidfd was released");
    }

    @Test
    void aReloadBootsItsCanaryAloneThenReloadSurgeReplacementsAtOnce() throws Exception {
        Harness h = new Harness(Map.of("workers", 4, "max-surge", 1, "reload-surge", 2, "reload-canary", "alone"));
        h.settle();
        h.signal("HUP");
        FakeProcess canary = h.last();
        assertEquals(5, h.spawned.size(), "the canary alone while it boots");
        h.boot(canary);
        h.tick();
        assertEquals(7, h.spawned.size(), "reload-surge 2, not max-surge 1, once the canary serves: " + h.spawned);
        assertEquals(2, h.inState(WorkerState.BOOTING), "" + h.workers());
        h.settle();
        h.tick();
        h.settle();
        assertEquals(4, h.inState(WorkerState.SERVING));
        assertTrue(h.workers().stream().allMatch(w -> w.generation() == 2), "" + h.workers());
        assertEquals(8, h.spawned.size(), "one replacement each, no more: " + h.spawned);
    }

    @Test
    void withReloadCanaryTogetherTheGenerationBootsAtOnceAndNoOldWorkerDrainsBeforeOneIsReady() throws Exception {
        Harness h = new Harness(Map.of("workers", 3, "reload-surge", "all"));
        h.settle();
        List<FakeProcess> old = List.copyOf(h.alive());
        h.signal("HUP");
        h.tick();
        assertEquals(6, h.spawned.size(), "the whole new generation boots beside the canary: " + h.spawned);
        for (FakeProcess p : old) {
            assertEquals(0, p.link.sent(LinkMessage.Type.DRAIN), p + " drained before a new worker was READY");
        }
        FakeProcess first = h.spawned.get(4);
        h.boot(first);
        h.tick();
        assertEquals(1, old.stream().filter(p -> p.link.sent(LinkMessage.Type.DRAIN) == 1).count(),
                "the first READY is the canary: only the worker it replaces drains");
        h.settle();
        assertEquals(3, h.inState(WorkerState.SERVING));
        assertTrue(h.workers().stream().allMatch(w -> w.generation() == 2), "" + h.workers());
        assertEquals(6, h.spawned.size(), "one replacement each, no more: " + h.spawned);
    }

    @Test
    void withReloadCanaryTogetherAnyNewWorkerFailingBeforeTheFirstReadyAbandonsTheReload() throws Exception {
        Harness h = new Harness(Map.of("workers", 2));
        h.settle();
        List<FakeProcess> old = List.copyOf(h.alive());
        h.signal("HUP");
        h.tick();
        assertEquals(4, h.spawned.size(), "" + h.spawned);
        FakeProcess failing = h.spawned.get(2);
        FakeProcess sibling = h.spawned.get(3);
        h.exit(failing, 1);
        for (int i = 0; i < 5; i++) {
            h.tick();
        }
        assertEquals(1, h.arbiter.generations().current().number(), "abandoned");
        assertEquals(4, h.spawned.size(), "no further worker of the abandoned generation: " + h.spawned);
        assertTrue(!sibling.signals.isEmpty() || sibling.link.sent(LinkMessage.Type.DRAIN) == 1,
                "the other new worker is stopped: " + sibling);
        h.exit(sibling, 0);
        h.tick();
        for (FakeProcess p : old) {
            assertEquals(List.of(), p.signals, p + " was signalled");
            assertEquals(0, p.link.sent(LinkMessage.Type.DRAIN), p + " was drained");
        }
        assertTrue(h.workers().stream().filter(w -> w.generation() == 1).allMatch(w -> w.recycleReason() == null
                && w.replacement() == null), "the old workers are as they were: " + h.workers());
    }

    @Test
    void reloadSurgeAllReplacesEveryOldWorkerAtOnceAfterTheCanary() throws Exception {
        Harness h = new Harness(Map.of("workers", 4, "max-surge", 1, "reload-surge", "all",
                "reload-canary", "alone"));
        h.settle();
        h.signal("HUP");
        h.boot(h.last());
        h.tick();
        assertEquals(3, h.inState(WorkerState.BOOTING), "the 3 other old workers' replacements: " + h.workers());
    }

    @Test
    void aBurstOfHupsConvergesToOneGeneration() throws Exception {
        Harness h = new Harness(Map.of("workers", 3));
        h.settle();
        for (int i = 0; i < 5; i++) {
            h.arbiter.post(new Event.SignalReceived("HUP"));
        }
        h.run();
        h.settle();
        h.tick();
        h.settle();
        int newest = h.arbiter.generations().current().number();
        assertEquals(6, newest);
        assertEquals(3, h.inState(WorkerState.SERVING));
        assertEquals(3, h.workers().size(), "" + h.workers());
        assertTrue(h.workers().stream().allMatch(w -> w.generation() == newest), "" + h.workers());
        assertEquals("none", h.arbiter.generations().reloadPhase());
    }

    @Test
    void aGracefulStopKillsWhateverIsStillThereAtGracefulTimeout() throws Exception {
        Harness h = new Harness(Map.of("workers", 2, "graceful-timeout", "5s"));
        h.settle();
        FakeProcess quick = h.alive().get(0);
        FakeProcess slow = h.alive().get(1);
        h.signal("TERM");
        assertEquals(1, quick.link.sent(LinkMessage.Type.DRAIN));
        assertEquals(1, slow.link.sent(LinkMessage.Type.DRAIN));
        h.tick();
        h.exit(quick, 0);
        for (int i = 0; i < 3; i++) {
            assertFalse(h.tick());
        }
        assertEquals(0, slow.count("KILL"), "killed before graceful-timeout");
        assertFalse(h.tick()); // 5 s after the stop began
        assertEquals(1, slow.count("KILL"));
        assertEquals(0, quick.count("KILL"), "a worker that is gone is never signalled");
        assertEquals(0, h.spawned.stream().filter(p -> p.generation() == 1).count() - 2, "no respawn while stopping");
        h.tick();
        assertEquals(1, slow.count("KILL"), "SIGKILL is sent once");
        slow.exit(128 + 9);
        assertTrue(h.run(), "the master stops once its last worker is gone");
        assertEquals(0, h.arbiter.workers().size());
    }

    @Test
    void aQuickStopInterruptsEveryWorkerAndKillsThemTwoSecondsLater() throws Exception {
        Harness h = new Harness(Map.of("workers", 2));
        h.settle();
        h.signal("INT");
        assertTrue(h.alive().stream().allMatch(p -> p.signals.equals(List.of("INT"))), "" + h.alive());
        h.tick();
        assertTrue(h.alive().stream().allMatch(p -> p.count("KILL") == 0), "killed before 2 s: " + h.alive());
        h.tick();
        assertTrue(h.alive().stream().allMatch(p -> p.count("KILL") == 1), "" + h.alive());
        h.alive().forEach(p -> p.exit(128 + 9));
        assertTrue(h.run());
        assertEquals(2, h.spawned.size(), "nothing respawned");
    }

    @Test
    void aWorkerDeadOfOutOfMemoryErrorCountsAsOomAndKeepsTheYoungBackoff() throws Exception {
        Harness h = new Harness(Map.of("workers", 1));
        h.settle();
        h.last().tail = List.of("INFO  Worker - ready", "Terminating due to java.lang.OutOfMemoryError: Metaspace");
        h.exit(h.last(), 3);
        assertEquals(1, h.arbiterWorkers().recycles(RecycleReason.OOM));
        assertEquals(0, h.arbiterWorkers().recycles(RecycleReason.CRASH));
        h.advance(Duration.ofMillis(400));
        assertEquals(1, h.spawned.size(), "a young death waits out the backoff like a crash");
        h.tick();
        assertEquals(2, h.spawned.size(), "respawned after the backoff");
        h.exit(h.last(), 3); // the same code with no such line: Drover's boot error, a crash
        assertEquals(1, h.arbiterWorkers().recycles(RecycleReason.OOM));
    }

    @Test
    void youngCrashesSlowRespawnsDown() throws Exception {
        Harness h = new Harness(Map.of("workers", 1));
        h.settle();
        h.exit(h.last(), 1); // READY once, then a crash 0 s after its spawn
        assertEquals(1, h.spawned.size(), "respawned at once after a young crash");
        h.advance(Duration.ofMillis(400));
        assertEquals(1, h.spawned.size());
        h.tick();
        assertEquals(2, h.spawned.size(), "respawned after the backoff");
        h.exit(h.last(), 1); // another young one: the wait doubles
        h.advance(Duration.ofMillis(900)); // past the next tick, not past the 1 s backoff
        assertEquals(2, h.spawned.size(), "the second backoff (1 s) is not over at the next tick");
        h.tick();
        assertEquals(3, h.spawned.size());
    }

    @Test
    void aHardLimitCeilingOfAYoungWorkerBacksOffTooAndKillsAtItsDeadline() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "memory.hard-limit", "100M"));
        h.settle();
        FakeProcess big = h.last();
        big.rss = (100L << 20) + 1;
        h.tick();
        assertEquals(1, big.link.sent(LinkMessage.Type.CEILING), "told to stop at the ceiling");
        assertEquals(0, big.count("KILL"), "not killed at once: it answers what it has in flight first");
        assertEquals(1, h.spawned.size(), "its replacement waits: it was stopped young");
        WorkerHandle handle = h.arbiter.workers().all().get(0);
        h.advance(Duration.ofNanos(handle.ceilingDeadlineNanos()));
        assertEquals(1, big.count("KILL"), "SIGKILL at the ceiling's deadline, not at the next tick");
        assertTrue(handle.ceilingKill().startsWith("SIGKILLed at its deadline ("), handle.ceilingKill());
        h.tick();
        assertEquals(2, h.spawned.size(), "the replacement started once the backoff was over");
        h.exit(big, 128 + 9);
        assertEquals(1, h.arbiter.workers().recycles(RecycleReason.MEMORY_HARD));
    }

    @Test
    void aWorkerStillGrowingUnderTheCeilingIsKilledAtOnce() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "memory.hard-limit", "100M"));
        h.settle();
        FakeProcess big = h.last();
        big.rss = 101L << 20;
        h.tick();
        assertEquals(1, big.link.sent(LinkMessage.Type.CEILING));
        WorkerHandle handle = h.arbiter.workers().all().get(0);
        big.rss = 106L << 20;
        h.tick(); // the deadline has passed too, but the reading comes first
        assertEquals(1, big.count("KILL"), "over 1.05 x the hard limit under the ceiling");
        assertTrue(handle.ceilingKill().startsWith("SIGKILLed at once: it went on growing under the memory ceiling to "
                + "rss 106.0 MiB"), handle.ceilingKill());
    }

    @Test
    void aWorkerFoundLateFarOverTheLimitMayGrowFivePercentOfItMoreUnderTheCeiling() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "memory.hard-limit", "100M"));
        h.settle();
        FakeProcess big = h.last();
        big.rss = 160L << 20; // the reading came late
        h.tick();
        assertEquals(1, big.link.sent(LinkMessage.Type.CEILING));
        assertTrue(Workers.grewPastCeiling(h.arbiter.workers().all().get(0), 166L << 20, 100L << 20));
        assertFalse(Workers.grewPastCeiling(h.arbiter.workers().all().get(0), 164L << 20, 100L << 20));
    }

    @Test
    void aWorkerThatDiesWhileDrainingIsNotReplacedTwice() throws Exception {
        Harness h = new Harness(Map.of("workers", 2, "max-requests", 5));
        h.settle();
        FakeProcess old = h.alive().get(0);
        h.stats(old, 5, 0);
        FakeProcess replacement = h.last();
        assertEquals(3, h.spawned.size());
        h.boot(replacement);
        assertEquals(1, old.link.sent(LinkMessage.Type.DRAIN));
        h.exit(old, 1); // it crashes while draining
        h.tick();
        h.tick();
        assertEquals(3, h.spawned.size(), "its slot is the replacement's: " + h.spawned);
        assertEquals(2, h.inState(WorkerState.SERVING));
        assertEquals(1, h.arbiter.workers().recycles(RecycleReason.MAX_REQUESTS));
        assertEquals(0, h.arbiter.workers().recycles(RecycleReason.CRASH));
    }

    @Test
    void aWorkerThatDiesWhileItsReplacementBootsLeavesTheSlotToTheReplacement() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "max-requests", 5));
        h.settle();
        FakeProcess old = h.last();
        h.stats(old, 5, 0);
        FakeProcess replacement = h.last();
        h.exit(old, 1);
        h.tick();
        assertEquals(2, h.spawned.size(), "the booting replacement holds the slot: " + h.spawned);
        assertNull(h.workers().get(0).replaces());
        h.boot(replacement);
        assertEquals(1, h.inState(WorkerState.SERVING));
        assertEquals(1, h.arbiter.workers().recycles(RecycleReason.CRASH));
        assertEquals(0, h.arbiter.workers().recycles(RecycleReason.MAX_REQUESTS), "no recycle was completed");
    }

    @Test
    void aRecycleAskedForAWorkerAlreadyBeingReplacedStartsNoSecondReplacement() throws Exception {
        // max-surge 2: the surge limit alone would allow a second replacement; only the pairing forbids it
        Harness h = new Harness(Map.of("workers", 1, "max-requests", 5, "max-surge", 2));
        h.settle();
        FakeProcess old = h.last();
        h.stats(old, 5, 0);
        assertEquals(2, h.spawned.size());
        String answer = h.ctl("recycle 1").get();
        assertTrue(answer.contains("error"), answer);
        h.stats(old, 6, 0);
        h.tick();
        assertEquals(2, h.spawned.size(), "one replacement only: " + h.spawned);
        h.boot(h.last());
        assertEquals(1, old.link.sent(LinkMessage.Type.DRAIN));
    }

    @Test
    void aHungWorkerGetsAThreadDumpThenSigkill() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "timeout", "5s"));
        h.settle();
        FakeProcess hung = h.last();
        h.stats(hung, 1, 6000);
        h.tick();
        assertEquals(List.of("QUIT"), hung.signals);
        h.tick();
        assertEquals(List.of("QUIT", "KILL"), hung.signals);
    }
}
