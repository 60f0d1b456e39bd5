package dev.drover.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the agent promises for every server it drives, checked on a real app in child JVMs that share one listening
 * socket on fd 0. Subclasses name the app (an embedded Tomcat, an embedded Jetty).
 */
abstract class ForeignServerContract {

    abstract Class<?> app();

    /** How the request threads of this server are named (notifyAtRequest runs on one). */
    abstract String requestThreadPrefix();

    @Test
    @Timeout(60)
    void servesOnTheSharedSocketOnlyAfterTheGateOpens() throws Exception {
        int appPort = freePort();
        try (ChildJvms jvms = ChildJvms.start(1, true, Map.of(), app(), String.valueOf(appPort)).attach(1)) {
            ChildJvms.Child child = jvms.child(0);
            String ready = child.call("ready");
            assertTrue(ready.startsWith("ok ") && ready.contains("on the inherited socket"), ready);
            assertThrows(ConnectException.class, () -> new Socket(InetAddress.getLoopbackAddress(), appPort).close(),
                    "the app's own port " + appPort + " must stay unbound");

            try (HttpConnection early = new HttpConnection(jvms.sharedPort(), 700)) {
                early.send("/hello");
                assertThrows(SocketTimeoutException.class, early::read, "answered before the gate opened");
                assertEquals(0, child.stats().get("requests"));
                assertEquals("ok", child.call("open"));
                early.send("/hello");
                assertEquals("hello from child 0", early.read().body()); // the one sent before the gate opened
                assertEquals("hello from child 0", early.read().body());
            }
            assertEquals(2, child.stats().get("requests"));
        }
    }

    @Test
    @Timeout(60)
    void warmsUpThroughTheAppOverAPrivateConnectionUncounted() throws Exception {
        try (ChildJvms jvms = ChildJvms.start(1, true, Map.of(), app(), String.valueOf(freePort())).attach(1)) {
            ChildJvms.Child child = jvms.child(0);
            assertTrue(child.call("ready").startsWith("ok "));
            try (HttpConnection early = new HttpConnection(jvms.sharedPort(), 700)) {
                early.send("/hits"); // waits in the shared socket's queue through the warm-up
                assertEquals("ok", child.call("notify 1"));
                assertEquals("ok sent=250 2xx=250 other=0 stopped= skipped=", child.call("warmup 250 30000 /hits"));
                assertThrows(SocketTimeoutException.class, early::read, "answered during the warm-up");
                assertEquals(0, child.stats().get("requests"), "warm-up requests counted");
                assertEquals("notified none", child.call("notified"), "a warm-up request reached notifyAtRequest(1)");
                assertEquals("ok", child.call("open"));
                Map<Integer, Integer> hits = hitsByPort(early.read().body());
                assertEquals(1, hits.remove(jvms.sharedPort()), "hits by port: " + hits);
                assertEquals(1, hits.size(), "the warm-up's hits came over one private listener: " + hits);
                assertEquals(250, hits.values().iterator().next(), "hits by port: " + hits);
            }
            assertEquals(1, child.stats().get("requests"));
            String notified = child.call("notified");
            assertTrue(notified.startsWith("notified " + requestThreadPrefix()), notified);
        }
    }

    /** A warm-up request that gets no answer stops the warm-up at once; its time limit bounds it. */
    @Test
    @Timeout(60)
    void warmUpStopsAtAnUnansweredRequestAndAtItsTimeLimit() throws Exception {
        try (ChildJvms jvms = ChildJvms.start(1, true, Map.of(), app(), String.valueOf(freePort())).attach(1)) {
            ChildJvms.Child child = jvms.child(0);
            assertTrue(child.call("ready").startsWith("ok "));
            assertEquals("ok sent=1 2xx=0 other=0 stopped=no_answer_within_5000_ms_to_GET_/sleep?ms=8000 skipped=",
                    child.call("warmup 5 30000 /sleep?ms=8000"));
            assertEquals("ok sent=1 2xx=0 other=0 stopped=drover.warmup.time-limit_(700_ms)_reached_waiting_for_an"
                    + "_answer_to_GET_/sleep?ms=3000 skipped=", child.call("warmup 5 700 /sleep?ms=3000"));
            String limited = child.call("warmup 1000000 300 /hello");
            // Between two requests, or while one waits for its answer.
            assertTrue(limited.matches("ok sent=\\d+ 2xx=\\d+ other=0 stopped=drover.warmup.time-limit_\\(300_ms\\)"
                    + "_reached(_waiting_for_an_answer_to_GET_/hello)? skipped="), limited);
            child.call("open");
            assertEquals("hello from child 0", get(jvms, "/hello"));
            awaitStats(child, "inflight", 0); // the unanswered warm-up requests end too
            assertEquals(1, child.stats().get("requests"), "warm-up requests counted");
        }
    }

    private static Map<Integer, Integer> hitsByPort(String answer) {
        Map<Integer, Integer> hits = new java.util.HashMap<>();
        for (String entry : answer.substring("hits ".length()).split(" ")) {
            String[] portAndCount = entry.split("=");
            hits.put(Integer.parseInt(portAndCount[0]), Integer.parseInt(portAndCount[1]));
        }
        return hits;
    }

    @Test
    @Timeout(60)
    void countsRequestsInFlightAndTheOldestOne() throws Exception {
        try (ChildJvms jvms = ChildJvms.start(1, true, Map.of(), app(), String.valueOf(freePort())).attach(1)) {
            ChildJvms.Child child = jvms.child(0);
            assertTrue(child.call("ready").startsWith("ok "));
            child.call("open");
            assertEquals("ok", child.call("notify 3"));
            get(jvms, "/hello");
            CompletableFuture<String> slow = background(() -> get(jvms, "/sleep?ms=1500"));
            awaitStats(child, "inflight", 1);
            awaitCondition(() -> child.stats().get("oldest") >= 300, "the oldest request in flight ages");
            String named = child.call("inflight");
            assertTrue(app().getSimpleName().startsWith("Tomcat") ? named.matches("inflight GET /sleep \\d+")
                    : named.equals("not told"), "the requests in flight, by path without the query: " + named);
            assertTrue(child.stats().get("connections") >= 1, child.call("stats"));
            assertEquals("hello from child 0", slow.get());
            awaitStats(child, "inflight", 0);
            assertEquals(0, child.stats().get("oldest"));

            CompletableFuture<String> async = background(() -> get(jvms, "/async?ms=1000"));
            awaitStats(child, "requests", 3);
            assertEquals(1, child.stats().get("inflight"), "an async request is in flight until it completes");
            assertEquals("hello from child 0", async.get());
            awaitStats(child, "inflight", 0);
            String notified = child.call("notified");
            assertTrue(notified.startsWith("notified " + requestThreadPrefix()), notified);
        }
    }

    @Test
    @Timeout(90)
    void drainUnderKeepAliveLoadLosesNoRequest() throws Exception {
        try (ChildJvms jvms = ChildJvms.start(2, true, Map.of(), app(), String.valueOf(freePort())).attach(2)) {
            for (int i = 0; i < 2; i++) {
                assertTrue(jvms.child(i).call("ready").startsWith("ok "));
                jvms.child(i).call("open");
            }
            long drainedAt;
            try (Load load = new Load(jvms.sharedPort(), 4, 2)) {
                awaitCondition(() -> load.answers("0") >= 200 && load.answers("1") >= 200, "both children serve");
                String drained = jvms.child(0).call("drain");
                assertTrue(drained.startsWith("drained "), drained);
                drainedAt = load.answers("0");
                jvms.child(0).exit(); // as the worker runtime does once drained
                long before = load.answers("1");
                awaitCondition(() -> load.answers("1") >= before + 500, "the other child takes over");
                load.close();
                assertEquals(java.util.List.of(), load.failures, "requests lost around the drain ("
                        + load.total() + " answered; logs in " + jvms.logDir + ")");
                assertEquals(drainedAt, load.answers("0"), "child 0 answered after its drain completed");
                System.out.printf("%s drain: %s, %d requests answered, 0 lost%n", app().getSimpleName(), drained,
                        load.total());
            }
        }
    }

    @Test
    @Timeout(60)
    void refusesASecondConnector() throws Exception {
        int second = freePort();
        try (ChildJvms jvms = ChildJvms.start(1, true, Map.of(), app(), String.valueOf(freePort()),
                String.valueOf(second)).attach(1)) {
            String ready = jvms.child(0).call("ready");
            assertTrue(ready.startsWith("refused ") && ready.contains("second") && ready.contains("port " + second)
                    && ready.contains("management.server.port"), ready);
        }
    }

    @Test
    @Timeout(60)
    void refusesWhenFd0IsNotAListener() throws Exception {
        try (ChildJvms jvms = ChildJvms.start(1, false, Map.of(), app(), String.valueOf(freePort())).attach(1)) {
            String ready = jvms.child(0).call("ready");
            assertTrue(ready.startsWith("refused ") && ready.contains("fd 0"), ready);
        }
    }

    static String get(ChildJvms jvms, String path) throws IOException {
        try (HttpConnection connection = new HttpConnection(jvms.sharedPort(), 20_000)) {
            return connection.get(path).body();
        }
    }

    static <T> CompletableFuture<T> background(Callable<T> work) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return work.call();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    static void awaitStats(ChildJvms.Child child, String key, long value) throws Exception {
        awaitCondition(() -> child.stats().get(key) == value, key + " = " + value);
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    static void awaitCondition(Condition condition, String what) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.sleep(10);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
