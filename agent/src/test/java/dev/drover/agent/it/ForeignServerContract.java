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
