package dev.drover.supervisor.arbiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drover.link.ExitCodes;
import dev.drover.link.LinkMessage;
import dev.drover.supervisor.arbiter.Harness.FakeProcess;
import dev.drover.supervisor.policy.RecycleReason;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The master's side of a jar app's workers (foreign workers): they attach saying inherited=1 and get no fds, a
 * request stuck for drover.timeout is a hang, and a worker that cannot drive the app's server (exit code 6) stops
 * the master at start and fails a reload's canary later.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class ForeignWorkerTest {

    private static final String JAR = "/srv/my-service.jar";
    private static final String REASON = "the app opens a second server (port 8081): Drover hands out one socket";

    @Test
    void aForeignWorkerAttachesWithInheritedAndIsSentNoSockets() throws Exception {
        Harness h = new Harness(Map.of("app", JAR, "workers", 2));
        h.settle();
        assertEquals(2, h.inState(WorkerState.SERVING));
        for (FakeProcess p : h.alive()) {
            assertEquals(0, p.link.socketHandOvers, "its socket is its fd 0 already: " + p);
            assertFalse(p.link.closed);
        }
        String status = h.ctl("status").get();
        assertTrue(status.contains("\"app\":\"my-service.jar\""), status);
    }

    @Test
    void aHelloWhoseInheritedFlagDoesNotMatchTheSpawnIsRefused() throws Exception {
        Harness foreign = new Harness(Map.of("app", JAR));
        FakeProcess jarWorker = foreign.last();
        foreign.hello(jarWorker, false);
        assertTrue(jarWorker.link.closed, "a jar worker that asks for sockets is refused");
        assertEquals(0, jarWorker.link.socketHandOvers);
        assertEquals(1, foreign.inState(WorkerState.BOOTING));

        Harness ordinary = new Harness(Map.of());
        FakeProcess nativeWorker = ordinary.last();
        ordinary.hello(nativeWorker, true);
        assertTrue(nativeWorker.link.closed, "a DroverApp worker that claims an inherited socket is refused");
        assertEquals(0, nativeWorker.link.socketHandOvers);

        FakeProcess same = ordinary.last();
        ordinary.hello(same, false);
        assertFalse(same.link.closed, "the right HELLO from the same worker is still accepted");
        assertEquals(1, same.link.socketHandOvers, "and a DroverApp worker gets its sockets");
    }

    @Test
    void aRequestRunningForTimeoutGetsAThreadDumpThenSigkill() throws Exception {
        Harness h = new Harness(Map.of("app", JAR, "timeout", "30s"));
        h.settle();
        FakeProcess stuck = h.alive().get(0);
        stats(h, stuck, 29_999);
        h.tick();
        assertEquals(List.of(), stuck.signals, "under timeout: alive");
        stats(h, stuck, 30_000);
        h.tick();
        assertEquals(List.of("QUIT"), stuck.signals);
        h.tick();
        assertEquals(List.of("QUIT", "KILL"), stuck.signals);
        assertEquals(1, h.arbiter.workers().recycles(RecycleReason.HANG));
        assertTrue(h.workers().get(0).recycleWhy().contains("a request running for 30000 ms (timeout 30s"),
                h.workers().get(0).recycleWhy());
    }

    @Test
    void aDroverAppWorkerWithoutTheFieldIsNeverAStuckRequest() throws Exception {
        Harness h = new Harness(Map.of("timeout", "30s"));
        h.settle();
        FakeProcess worker = h.alive().get(0);
        h.stats(worker, 5, 0); // no request_stall_ms: a DroverApp worker's STATS
        h.tick();
        h.tick();
        assertEquals(List.of(), worker.signals);
    }

    @Test
    void exitCode6OfAFirstGenerationWorkerStopsTheMasterWithExitCode4() throws Exception {
        Harness h = new Harness(Map.of("app", JAR, "workers", 2));
        FakeProcess refusing = h.spawned.get(0);
        FakeProcess other = h.spawned.get(1);
        h.boot(other);
        refusing.tail = List.of("INFO  Tomcat initialized with port 8080", "drover worker: " + REASON);
        h.exit(refusing, ExitCodes.UNSUPPORTED_SERVER);
        assertEquals(List.of("INT"), other.signals, "the master stops everything");
        assertEquals(2, h.spawned.size(), "nothing respawned");
        other.exit(130);
        assertTrue(h.run(), "the master stops once its last worker is gone");
        assertEquals(ExitCodes.APP_LOAD_ERROR, h.arbiter.exitCode());
    }

    @Test
    void exitCode6OfAReloadCanaryFailsTheReloadAndLeavesTheOldGenerationServing() throws Exception {
        Harness h = new Harness(Map.of("app", JAR, "workers", 2, "reload-canary", "alone"));
        h.settle();
        List<FakeProcess> old = List.copyOf(h.alive());
        h.signal("HUP");
        FakeProcess canary = h.last();
        canary.tail = List.of("drover worker: " + REASON);
        h.exit(canary, ExitCodes.UNSUPPORTED_SERVER);
        for (int i = 0; i < 3; i++) {
            assertFalse(h.tick(), "the master keeps running");
        }
        assertEquals(1, h.arbiter.generations().current().number());
        assertEquals(3, h.spawned.size(), "no further worker of the refused generation");
        for (FakeProcess p : old) {
            assertEquals(List.of(), p.signals, p + " was signalled");
            assertEquals(0, p.link.sent(LinkMessage.Type.DRAIN), p + " was drained");
        }
        assertEquals(2, h.inState(WorkerState.SERVING));
    }

    @Test
    void theReasonIsTheWorkersOwnLine() throws Exception {
        Harness h = new Harness(Map.of("app", JAR));
        FakeProcess p = h.last();
        p.tail = List.of("INFO  starting", "drover worker: " + REASON, "INFO  Stopping service [Tomcat]");
        assertEquals(REASON, Arbiter.unsupportedServerReason(handleOf(h, p)));
        p.tail = List.of("INFO  starting");
        assertTrue(Arbiter.unsupportedServerReason(handleOf(h, p)).startsWith("the worker gave no reason"));
    }

    private static WorkerHandle handleOf(Harness h, FakeProcess p) {
        return h.workers().stream().filter(w -> w.pid() == p.pid).findFirst().orElseThrow();
    }

    private static void stats(Harness h, FakeProcess p, long requestStallMs) {
        h.arbiter.post(new Event.LinkReceived(p.link, LinkMessage.of(LinkMessage.Type.STATS).put("requests", 3)
                .put("inflight", 1).put("connections", 1).put("loop_stall_ms", 0)
                .put("request_stall_ms", requestStallMs).put("gc_ms", 0).put("heap_used", 0).build()));
        h.run();
    }
}
