package dev.drover.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drover.link.LinkMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The policy both kinds of worker share, driven with a fake server, owner thread, link and clock. */
class WorkerLifecycleTest {

    private final FakeServing serving = new FakeServing();
    private final ArrayDeque<Runnable> posted = new ArrayDeque<>();
    private final List<LinkMessage> sent = new ArrayList<>();
    private long nanos = 1_000_000_000L;
    private int finished;

    private WorkerLifecycle lifecycle(long maxRequests) {
        return lifecycle(maxRequests, false);
    }

    private WorkerLifecycle lifecycle(long maxRequests, boolean spare) {
        return lifecycle(new WorkerEnv(1, 1, "secret", Path.of("/tmp/link"), List.of("tcp"), "app", null, 4242,
                maxRequests, null, new Warmup.Plan(0, List.of("GET /"), 10_000), 0, HttpLimits.DEFAULTS, spare,
                false, List.of()));
    }

    private WorkerLifecycle standby() {
        return lifecycle(new WorkerEnv(0, 0, "secret", Path.of("/tmp/link"), List.of("tcp"), "", null, 4242, 0, null,
                new Warmup.Plan(0, List.of("GET /"), 10_000), 0, HttpLimits.DEFAULTS, false, true, List.of()));
    }

    private WorkerLifecycle lifecycle(WorkerEnv env) {
        WorkerLifecycle.Owner owner = new WorkerLifecycle.Owner() {
            @Override
            public void post(Runnable task) {
                synchronized (posted) {
                    posted.add(task);
                }
            }

            @Override
            public void every(long periodMs, Runnable task) {
                assertEquals(WorkerLifecycle.STATS_INTERVAL_MS, periodMs);
            }
        };
        return new WorkerLifecycle(env, LazyLogging.Log.of(Worker.class), owner, sent::add, () -> nanos, () -> finished++);
    }

    private WorkerLifecycle ready(long maxRequests) {
        WorkerLifecycle life = lifecycle(maxRequests);
        life.serveWith(serving);
        life.ready(1234);
        assertEquals(LinkMessage.Type.READY, sent.get(0).type());
        assertEquals("1234", sent.get(0).fields().get("boot_ms"));
        sent.clear();
        return life;
    }

    /** Advances the clock by {@code ms} and ticks. */
    private void tick(WorkerLifecycle life, long ms) {
        nanos += TimeUnit.MILLISECONDS.toNanos(ms);
        life.tick();
    }

    private void runPosted() {
        while (!posted.isEmpty()) {
            posted.poll().run();
        }
    }

    private LinkMessage lastStats() {
        LinkMessage last = sent.get(sent.size() - 1);
        assertEquals(LinkMessage.Type.STATS, last.type());
        return last;
    }

    @Test
    void aStandbyTakesItsAdoptOnceAndBecomesTheWorkerItNames() throws Exception {
        WorkerLifecycle life = standby();
        LinkMessage adopt = LinkMessage.of(LinkMessage.Type.ADOPT).put("id", 2).put("generation", 5)
                .put("app", "dev.example.App").put("classpath", "/srv/app/a.jar:/srv/app/classes")
                .put("config", "/etc/app.conf").put("max_requests", 300).put("spare", 0).build();
        life.onAdopt(adopt);
        life.onAdopt(LinkMessage.of(LinkMessage.Type.ADOPT).put("id", 9).build()); // a second one: ignored
        assertEquals(adopt, life.adoption().getNow(null));
        WorkerEnv env = new WorkerEnv(0, 0, "secret", Path.of("/tmp/link"), List.of("tcp"), "", null, 4242, 0, null,
                new Warmup.Plan(0, List.of("GET /"), 10_000), 0, HttpLimits.DEFAULTS, false, true, List.of())
                .adopted(adopt);
        assertEquals(2, env.workerId());
        assertEquals(5, env.generation());
        assertEquals("dev.example.App", env.appClass());
        assertEquals(List.of(Path.of("/srv/app/a.jar"), Path.of("/srv/app/classes")), env.appClasspath());
        assertEquals(Path.of("/etc/app.conf"), env.configFile());
        assertEquals(300, env.maxRequests());
        assertFalse(env.standby());
        assertFalse(env.spare());
        assertEquals("secret", env.secret(), "the link and secret stay the standby's");
    }

    @Test
    void aStandbyToldToStopBeforeItsAdoptExitsWithNothingToDrain() {
        WorkerLifecycle life = standby();
        life.drain("SIGTERM");
        assertNull(life.adoption().getNow(LinkMessage.of(LinkMessage.Type.ADOPT).build()),
                "the wait for ADOPT ends with none");
        assertEquals(1, finished);
        life.onAdopt(LinkMessage.of(LinkMessage.Type.ADOPT).put("id", 1).build());
        assertNull(life.adoption().getNow(null), "too late: ignored");
    }

    @Test
    void aWorkerThatIsNoStandbyIgnoresAdopt() {
        WorkerLifecycle life = lifecycle(0);
        life.onAdopt(LinkMessage.of(LinkMessage.Type.ADOPT).put("id", 1).build());
        assertFalse(life.adoption().isDone());
    }

    @Test
    void aSpareAcceptsOnlyOnPromoteAndSaysSo() {
        WorkerLifecycle life = lifecycle(0, true);
        life.serveWith(serving);
        int[] accepted = {0};
        life.readyAsSpare(1234, () -> ++accepted[0]);
        assertEquals(LinkMessage.Type.READY, sent.get(0).type());
        assertEquals(0, accepted[0], "a spare accepts before PROMOTE");
        life.onPromote(LinkMessage.of(LinkMessage.Type.PROMOTE).build());
        life.onPromote(LinkMessage.of(LinkMessage.Type.PROMOTE).build());
        assertEquals(1, accepted[0], "a second PROMOTE adopts the sockets again");
        assertEquals(LinkMessage.Type.PROMOTED, sent.get(1).type());
        assertEquals("1", sent.get(1).fields().get("sockets"));
        assertEquals(2, sent.size());
    }

    @Test
    void aSpareToldToDrainExitsWithoutEverAccepting() {
        WorkerLifecycle life = lifecycle(0, true);
        life.serveWith(serving);
        int[] accepted = {0};
        life.readyAsSpare(1234, () -> ++accepted[0]);
        life.onDrain(LinkMessage.of(LinkMessage.Type.DRAIN).put("reason", "reload").build());
        assertEquals(1, finished);
        life.onPromote(LinkMessage.of(LinkMessage.Type.PROMOTE).build());
        assertEquals(0, accepted[0], "a drained spare was promoted");
    }

    @Test
    void anIdleWorkerReportsEveryOtherTick() {
        WorkerLifecycle life = ready(0);
        for (int i = 0; i < 5; i++) {
            tick(life, 1000);
        }
        // the first tick reports (nothing reported yet), then every IDLE_REPORT_EVERY-th
        assertEquals(3, sent.size(), sent.toString());
    }

    @Test
    void aWorkerWithRequestsInFlightOrNewOnesOrAStalledLoopReportsEveryTick() {
        WorkerLifecycle life = ready(0);
        tick(life, 1000);
        serving.inflight = 1;
        tick(life, 1000);
        serving.inflight = 0;
        serving.requests = 7;
        tick(life, 1000);
        serving.loopStall = 2 * LoopHeartbeats.BEAT_MS;
        tick(life, 1000);
        assertEquals(4, sent.size(), sent.toString());
        assertEquals("7", lastStats().fields().get("requests"));
    }

    @Test
    void theJvmsOwnPauseIsNotCountedAsALoopStall() {
        WorkerLifecycle life = ready(0);
        serving.loopStall = 900;
        tick(life, 1600); // the tick came 600 ms late: the whole JVM stood still for that long
        assertEquals("300", lastStats().fields().get("loop_stall_ms"));
        tick(life, 1000);
        assertEquals("900", lastStats().fields().get("loop_stall_ms"));
    }

    @Test
    void aServerThatDoesNotCountConnectionsReportsZeroAndItsOldestRequest() {
        WorkerLifecycle life = ready(0);
        serving.connections = -1;
        serving.requestStall = 4500;
        tick(life, 1000);
        LinkMessage stats = lastStats();
        assertEquals("0", stats.fields().get("connections"));
        assertEquals("4500", stats.fields().get("request_stall_ms"));
    }

    @Test
    void aNativeWorkerSendsTheSameFieldsAsBefore() {
        WorkerLifecycle life = ready(0);
        serving.connections = 3;
        tick(life, 1000);
        LinkMessage stats = lastStats();
        assertEquals(List.of("requests", "inflight", "connections", "loop_stall_ms", "gc_ms", "heap_used", "draining",
                "heap_live", "metaspace", "classes", "direct", "threads"), List.copyOf(stats.fields().keySet()));
        assertEquals("3", stats.fields().get("connections"));
        assertEquals("0", stats.fields().get("draining"));
    }

    @Test
    void theMaxRequestsIsToldAtOnceNotAtTheNextTick() {
        WorkerLifecycle life = ready(5);
        assertEquals(5, serving.notifyAt);
        tick(life, 1000);
        sent.clear();
        serving.requests = 5;
        serving.onLimit.run(); // on the server's thread: posts the report to the owner
        assertTrue(sent.isEmpty());
        runPosted();
        assertEquals("5", lastStats().fields().get("requests"));
    }

    @Test
    void noMaxRequestsNoNotification() {
        ready(0);
        assertNull(serving.onLimit);
    }

    @Test
    void aDrainBeforeServingFinishesAtOnce() {
        WorkerLifecycle life = lifecycle(0);
        life.drain("SIGTERM");
        assertTrue(life.draining());
        assertEquals(1, finished);
        assertEquals(0, serving.drains);
    }

    @Test
    void aDrainFinishesOnceTheServerIsIdleAndReportsDrainingMeanwhile() {
        WorkerLifecycle life = ready(0);
        life.onDrain(LinkMessage.of(LinkMessage.Type.DRAIN).put("reason", "reload").build());
        life.drain("SIGTERM"); // a second one changes nothing
        assertEquals(1, serving.drains);
        assertEquals(0, finished);
        for (int i = 0; i < 3; i++) {
            tick(life, 1000); // draining: never thinned
        }
        assertEquals(3, sent.size());
        assertEquals("1", lastStats().fields().get("draining"));
        serving.whenIdle.run(); // on the server's thread
        assertEquals(0, finished);
        runPosted();
        assertEquals(1, finished);
    }

    /** Runs what the owner was given until {@code done}, waiting (with a deadline) for work of other threads. */
    /** The file's text, or "" while it is not (fully) there. */
    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private void runPostedUntil(java.util.function.BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "not done within 20 s");
            Runnable task;
            synchronized (posted) {
                task = posted.poll();
            }
            if (task == null) {
                Thread.onSpinWait();
            } else {
                task.run();
            }
        }
    }

    @Test
    @Timeout(30)
    void theCeilingClosesTheListenersFirstAndNamesTheRequestsInFlight(@TempDir Path dir) throws Exception {
        WorkerLifecycle life = ready(0);
        serving.inflightRequests = List.of(new InFlightRequest("GET", "/leak", 12));
        Path file = dir.resolve("evidence-1.json");
        life.onCeiling(LinkMessage.of(LinkMessage.Type.CEILING).put("deadline_ms", 800).put("evidence", file).build());
        assertEquals(List.of("drain 400", "inflightRequests"), serving.calls,
                "the drain (whose first step closes the listeners) before anything else, with half the deadline as grace");
        serving.whenIdle.run();
        runPostedUntil(() -> finished == 1);
        String json = Files.readString(file);
        assertTrue(json.contains("\"inflight\":[{\"age_ms\":12,\"method\":\"GET\",\"path\":\"/leak\"}]"), json);
        assertTrue(json.contains("no baseline histogram had been taken"), json);
        assertFalse(json.contains("top_classes"), "no histogram without a baseline to tell its cost: " + json);
    }

    @Test
    void aCeilingWithAnUnreadableDeadlineStillStopsTheWorker() {
        WorkerLifecycle life = ready(0);
        life.onCeiling(LinkMessage.of(LinkMessage.Type.CEILING).put("deadline_ms", "soon").build());
        assertEquals(List.of("drain " + ConnectionTracker.ceilingGraceMs(WorkerLifecycle.CEILING_DEFAULT_DEADLINE_MS),
                "inflightRequests"), serving.calls);
        assertTrue(life.draining());
    }

    @Test
    void theCeilingsHistogramIsTakenOnlyIfTheDeadlineLeavesTimeForIt() {
        assertNull(WorkerLifecycle.histogramSkipped(200, 600));
        assertTrue(WorkerLifecycle.histogramSkipped(300, 600).contains("it would need about 700 ms (twice the "
                + "baseline's 300 ms, plus 100 ms for the exit) and the deadline was 600 ms"));
        assertTrue(WorkerLifecycle.histogramSkipped(-1, 1000).contains("no baseline histogram"));
        assertNull(WorkerLifecycle.histogramSkipped(-1, 2000), "no baseline: guessed, and 2 s leave time for it");
    }

    @Test
    @Timeout(60)
    void aMemoryDrainClosesTheListenersAndDrainsWhileItsHistogramIsTaken(@TempDir Path dir) throws Exception {
        WorkerLifecycle life = ready(0);
        serving.inflightRequests = List.of(new InFlightRequest("GET", "/leak", 3));
        Path file = dir.resolve("evidence-2.json");
        life.onDrain(LinkMessage.of(LinkMessage.Type.DRAIN).put("reason", "memory").put("evidence", file).build());
        assertEquals(List.of("stopAccepting", "inflightRequests", "drain " + ConnectionTracker.IDLE_CLOSE_GRACE_MS),
                serving.calls, "listeners closed first, then the connections drained at once, not after the "
                        + "histogram: a leaking worker serving its keep-alive clients meanwhile would grow on");
        runPostedUntil(() -> readQuietly(file).contains("top_classes"));
        String json = Files.readString(file);
        assertTrue(json.contains("top_classes") && json.contains("\"path\":\"/leak\""), json);
    }

    @Test
    void theLastRequestCountIsTheServers() {
        WorkerLifecycle life = lifecycle(0);
        assertEquals(0, life.requests());
        life.serveWith(serving);
        serving.requests = 12;
        assertEquals(12, life.requests());
        assertFalse(life.draining());
    }

    private static final class FakeServing implements Serving {
        long requests;
        int inflight;
        int connections;
        long loopStall;
        long requestStall = -1;
        long notifyAt;
        Runnable onLimit;
        int drains;
        Runnable whenIdle;
        List<InFlightRequest> inflightRequests = List.of();
        final List<String> calls = new ArrayList<>();

        @Override
        public long requests() {
            return requests;
        }

        @Override
        public int inflight() {
            return inflight;
        }

        @Override
        public int connections() {
            return connections;
        }

        @Override
        public long loopStallMillis() {
            return loopStall;
        }

        @Override
        public long requestStallMillis() {
            return requestStall;
        }

        @Override
        public void notifyAtRequest(long count, Runnable action) {
            notifyAt = count;
            onLimit = action;
        }

        @Override
        public List<InFlightRequest> inflightRequests() {
            calls.add("inflightRequests");
            return inflightRequests;
        }

        @Override
        public void stopAccepting(Runnable then) {
            calls.add("stopAccepting");
            then.run();
        }

        @Override
        public void drain(long idleGraceMs, Runnable whenIdle) {
            calls.add("drain " + idleGraceMs);
            drains++;
            this.whenIdle = whenIdle;
        }
    }
}
