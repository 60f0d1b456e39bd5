package dev.drover.supervisor.arbiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drover.link.LinkMessage;
import dev.drover.supervisor.arbiter.Harness.FakeProcess;
import dev.drover.supervisor.policy.RecycleReason;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The master's memory policy with fake workers and a fake clock: readings every 100 ms near the limits, the
 * memory-projected recycle, its place in the surge, and no crash backoff for memory exits.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class MemoryEmergencyTest {

    private static final long MIB = 1 << 20;
    private static final Duration STEP = Duration.ofMillis(100);

    /** Grows {@code p} by {@code mibPerStep} every 100 ms until {@code done}, at most {@code steps} times. */
    private static void leak(Harness h, FakeProcess p, long mibPerStep, int steps, BooleanSupplier done) {
        for (int i = 0; i < steps && !done.getAsBoolean(); i++) {
            p.rss += mibPerStep * MIB;
            h.advance(STEP);
        }
    }

    private static WorkerHandle handle(Harness h, FakeProcess p) {
        return h.workers().stream().filter(w -> w.pid() == p.pid).findFirst().orElseThrow();
    }

    @Test
    void withOnlyASoftLimitAWorkerNearItIsReadEvery100MsAndOneFarFromItOnlyAtTicks() throws Exception {
        Harness h = new Harness(Map.of("workers", 2, "memory.soft-limit", "300M"));
        h.settle();
        FakeProcess near = h.alive().get(0);
        FakeProcess far = h.alive().get(1);
        near.rss = 280 * MIB;
        h.tick(); // (a worker without two readings since its READY is read every 100 ms: its rate is not known)
        h.tick();
        int nearBefore = near.rssReads;
        int farBefore = far.rssReads;
        for (int i = 0; i < 9; i++) { // 0.9 s: no tick
            h.advance(STEP);
        }
        assertTrue(near.rssReads - nearBefore >= 8, "near the soft limit: " + (near.rssReads - nearBefore));
        assertEquals(0, far.rssReads - farBefore, "far from it: read at ticks only");
    }

    @Test
    void withAHardLimitEveryWorkerIsReadEvery100MsAndOneNearItEvery25Ms() throws Exception {
        Harness h = new Harness(Map.of("workers", 2, "memory.soft-limit", "300M", "memory.hard-limit", "600M"));
        h.settle();
        FakeProcess near = h.alive().get(0);
        FakeProcess far = h.alive().get(1);
        near.rss = 500 * MIB; // over 80 % of the hard limit, not growing
        h.tick();
        h.tick();
        int nearBefore = near.rssReads;
        int farBefore = far.rssReads;
        for (int i = 0; i < 36; i++) { // 0.9 s in 25 ms steps: no tick
            h.advance(Duration.ofMillis(25));
        }
        assertTrue(near.rssReads - nearBefore >= 34, "near the hard limit: " + (near.rssReads - nearBefore));
        int farReads = far.rssReads - farBefore;
        assertTrue(farReads >= 8 && farReads <= 10, "far from it, idle, still every 100 ms: " + farReads);
    }

    @Test
    void underTheCeilingAWorkerStillGrowingIsKilledBeforeAReadingPastTheTolerance() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "memory.hard-limit", "600M", "graceful-timeout", "10s"));
        h.settle();
        FakeProcess w = h.last();
        w.rss = 601 * MIB;
        h.tick();
        assertEquals(1, w.link.sent(LinkMessage.Type.CEILING));
        for (int i = 0; i < 20; i++) { // 0.5 s in 25 ms steps, its memory flat
            h.advance(Duration.ofMillis(25));
        }
        assertEquals(0, w.count("KILL"), "not growing, within its deadline: its requests keep their time");
        while (w.count("KILL") == 0 && w.rss < 700 * MIB) {
            w.rss += 4 * MIB; // 160 MiB/s
            h.advance(Duration.ofMillis(25));
        }
        assertEquals(1, w.count("KILL"));
        assertTrue(w.rss <= 630 * MIB, "killed before any reading past 1.05 x 600 MiB: " + w.rss / MIB);
        assertTrue(handle(h, w).ceilingKill().contains("before the next reading it would be past 1.05 x"),
                handle(h, w).ceilingKill());
    }

    @Test
    void aFastLeakIsReplacedAtOnceAndDrainsGracefully() throws Exception {
        Harness h = new Harness(Map.of("workers", 2, "memory.soft-limit", "300M", "memory.hard-limit", "600M"));
        h.settle();
        FakeProcess leaky = h.alive().get(0);
        leaky.rss = 200 * MIB;
        h.tick();
        leak(h, leaky, 16, 40, () -> h.spawned.size() == 3); // 160 MiB/s
        assertEquals(3, h.spawned.size(), "a replacement was spawned");
        WorkerHandle old = handle(h, leaky);
        assertEquals(RecycleReason.MEMORY_PROJECTED, old.recycleReason());
        assertTrue(leaky.rss < 450 * MIB, "replaced early, not waiting out soft-grace: " + leaky.rss / MIB);
        assertTrue(old.recycleWhy().contains("growing 160 MiB/s reaches drover.memory.hard-limit (600.0 MiB) in"),
                old.recycleWhy());
        h.boot(h.last());
        LinkMessage drain = leaky.link.sent.stream().filter(m -> m.type() == LinkMessage.Type.DRAIN).findFirst()
                .orElseThrow();
        assertEquals("memory-projected", drain.fields().get("reason"));
        assertTrue(drain.fields().containsKey("evidence"), "its class histogram, for the leak report");
        h.exit(leaky, 0);
        assertEquals(0, leaky.count("KILL"));
        assertEquals(1, h.arbiterWorkers().recycles(RecycleReason.MEMORY_PROJECTED));
        assertEquals(0, h.arbiterWorkers().recycles(RecycleReason.MEMORY_HARD));
    }

    @Test
    void aBootAtStartCountsThriceForTheReplacementsTime() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "memory.soft-limit", "300M", "memory.hard-limit", "600M"));
        FakeProcess leaky = h.last();
        leaky.rss = 150 * MIB;
        h.advance(Duration.ofSeconds(1)); // its boot at start: 1 s, with the machine to itself
        h.settle();
        h.tick();
        leak(h, leaky, 10, 40, () -> h.spawned.size() == 2); // 100 MiB/s: 4.5 s from the hard limit
        assertEquals(2, h.spawned.size());
        String why = handle(h, leaky).recycleWhy();
        // A replacement beside the leaking worker is counted 3 s (not 1 s): (3 + drain 0.5 + exit 0.5) x 1.25 +
        // two readings = 5.2 s, more than the 4.5 s left, so at once; with 1 s it would wait until ~330 MiB.
        assertTrue(leaky.rss <= 200 * MIB, "replaced at " + leaky.rss / MIB + " MiB: " + why);
        assertTrue(why.contains("a replacement needs ~5.2s"), why);
    }

    @Test
    void aSlowLeakWaitsForTheSoftLimitAsBefore() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "memory.soft-limit", "300M", "memory.hard-limit", "600M"));
        FakeProcess leaky = h.last();
        leaky.rss = 250 * MIB; // its size at READY (a jump of 200 MiB between two readings would be a fast leak)
        h.settle();
        leak(h, leaky, 1, 100, () -> h.spawned.size() == 2); // 10 MiB/s
        assertEquals(2, h.spawned.size());
        assertEquals(RecycleReason.MEMORY, handle(h, leaky).recycleReason());
    }

    @Test
    void anEmergencyGoesAheadOfPlannedRecyclesAndMayTakeOneSlotMore() throws Exception {
        Harness h = new Harness(Map.of("workers", 3, "max-requests", 5, "max-surge", 1,
                "memory.soft-limit", "300M", "memory.hard-limit", "600M"));
        h.settle();
        FakeProcess first = h.alive().get(0);
        FakeProcess second = h.alive().get(1);
        FakeProcess leaky = h.alive().get(2);
        h.stats(first, 5, 0);
        h.stats(second, 5, 0);
        assertEquals(4, h.spawned.size(), "max-surge 1: one planned replacement boots, the other waits");
        leaky.rss = 250 * MIB;
        h.tick();
        leak(h, leaky, 20, 30, () -> h.spawned.size() == 5);
        assertEquals(5, h.spawned.size(), "the emergency took a slot beyond max-surge");
        assertEquals(leaky.pid, h.workers().get(h.workers().size() - 1).replaces().pid());
        assertNull(handle(h, second).replacement(), "the planned recycle still waits");
        assertEquals(0, leaky.count("KILL"));
    }

    @Test
    void aDrainingWorkerGrowingFastGetsTheCeilingBeforeAReadingOverTheLimit() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "max-requests", 5, "memory.hard-limit", "600M"));
        h.settle();
        FakeProcess old = h.last();
        h.stats(old, 5, 0);
        h.boot(h.last());
        assertEquals(1, old.link.sent(LinkMessage.Type.DRAIN));
        old.rss = 300 * MIB;
        while (old.link.sent(LinkMessage.Type.CEILING) == 0 && old.rss < 700 * MIB) {
            old.rss += 10 * MIB; // 400 MiB/s, read every 25 ms
            h.advance(Duration.ofMillis(25));
        }
        assertEquals(1, old.link.sent(LinkMessage.Type.CEILING), "its rate passes the limit within 0.5 s");
        assertTrue(old.rss < 600 * MIB, "before any reading over the limit: " + old.rss / MIB);
        assertEquals(0, old.count("KILL"), "its requests in flight are answered");
    }

    @Test
    void aDrainingWorkerOverTheHardLimitGetsTheCeilingNotASigkill() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "max-requests", 5, "memory.hard-limit", "600M"));
        h.settle();
        FakeProcess old = h.last();
        h.stats(old, 5, 0); // its request limit: the replacement boots first
        h.boot(h.last());
        assertEquals(1, old.link.sent(LinkMessage.Type.DRAIN), "draining once its replacement serves");
        old.rss = 610 * MIB;
        h.tick();
        assertEquals(1, old.link.sent(LinkMessage.Type.CEILING), "over the hard limit while draining: the ceiling");
        assertEquals(0, old.count("KILL"), "not SIGKILLed at once: its requests in flight are answered");
        assertEquals(2, h.spawned.size(), "its slot was handed over already: no second replacement");
        h.advance(STEP);
        assertEquals(1, old.link.sent(LinkMessage.Type.CEILING), "told once");
        h.advance(Duration.ofNanos(handle(h, old).ceilingDeadlineNanos()));
        assertEquals(1, old.count("KILL"), "SIGKILL at the ceiling's deadline");
        assertEquals(1, h.arbiterWorkers().recycles(RecycleReason.MAX_REQUESTS));
        assertEquals(0, h.arbiterWorkers().recycles(RecycleReason.MEMORY_HARD), "counted once, as what it was");
    }

    @Test
    void anEmergencyOverridesAPlannedMarkStillWaitingForItsSlot() throws Exception {
        Harness h = new Harness(Map.of("workers", 2, "max-requests", 5, "max-surge", 1,
                "memory.soft-limit", "300M", "memory.hard-limit", "600M"));
        h.settle();
        FakeProcess first = h.alive().get(0);
        FakeProcess leaky = h.alive().get(1);
        h.stats(first, 5, 0);
        h.stats(leaky, 5, 0); // marked for max-requests, waits for the slot
        assertEquals(3, h.spawned.size());
        leaky.rss = 250 * MIB;
        h.tick();
        leak(h, leaky, 20, 30, () -> h.spawned.size() == 4);
        assertEquals(RecycleReason.MEMORY_PROJECTED, handle(h, leaky).recycleReason());
        assertEquals(leaky.pid, h.workers().get(h.workers().size() - 1).replaces().pid());
    }

    @Test
    void theHardLimitStopsAWorkerBeforeItsReadingsPassIt() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "memory.hard-limit", "600M"));
        h.settle();
        FakeProcess leaky = h.last();
        leaky.rss = 300 * MIB;
        h.tick();
        leak(h, leaky, 40, 30, () -> leaky.link.sent(LinkMessage.Type.CEILING) > 0); // 400 MiB/s
        assertEquals(1, leaky.link.sent(LinkMessage.Type.CEILING), "stopped at the ceiling");
        assertTrue(leaky.rss <= 600 * MIB, "stopped at " + leaky.rss / MIB + " MiB");
        assertEquals(RecycleReason.MEMORY_HARD, handle(h, leaky).recycleReason());
    }

    @Test
    void hardLimitKillsAfterTheBootDoNotSlowRespawnsDown() throws Exception {
        Harness h = new Harness(Map.of("workers", 1, "memory.hard-limit", "100M"));
        h.settle();
        for (int round = 1; round <= 4; round++) {
            FakeProcess big = h.last();
            h.tick();
            h.tick(); // 2 s after its READY: past its boot
            big.rss = 200 << 20;
            h.tick();
            assertEquals(1, big.link.sent(LinkMessage.Type.CEILING), "stopped at the ceiling");
            h.exit(big, 128 + 9);
            assertEquals(round + 1, h.spawned.size(), "replaced at once, round " + round);
            h.boot(h.last());
        }
        assertEquals(4, h.arbiterWorkers().recycles(RecycleReason.MEMORY_HARD));
    }

    @Test
    void aWorkerDeadOfOutOfMemoryErrorLongAfterItsBootIsRespawnedAtOnce() throws Exception {
        Harness h = new Harness(Map.of("workers", 1));
        h.settle();
        h.tick();
        h.tick();
        h.last().tail = java.util.List.of("Terminating due to java.lang.OutOfMemoryError: Java heap space");
        h.exit(h.last(), 3);
        assertEquals(2, h.spawned.size(), "no backoff");
        assertEquals(1, h.arbiterWorkers().recycles(RecycleReason.OOM));
    }
}
