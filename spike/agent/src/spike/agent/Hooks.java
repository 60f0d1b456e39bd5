package spike.agent;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Spike: what the rewritten server classes call. Public and on the system class path, so that a class of the app's
 * own loader (Spring Boot's nested-jar loader delegates to it) can link against it; it only sees the servers'
 * objects as Object and drives them by reflection.
 */
public final class Hooks {
    static final List<Object> CONNECTORS = new CopyOnWriteArrayList<>();
    static final AtomicLong REQUESTS = new AtomicLong();
    /** Request threads and when their current request started: in-flight count and the oldest request's age. */
    static final Map<Thread, Long> INFLIGHT = new ConcurrentHashMap<>();

    private Hooks() {
    }

    public static void connectorCreated(Object connector) {
        if (!CONNECTORS.contains(connector)) {
            CONNECTORS.add(connector);
        }
    }

    public static void started(String what) {
        System.err.printf("spike-agent: %s at %d ms after JVM start%n", what, uptime());
    }

    /** Released at READY; waited on only by servers started inside a Spring application. */
    private static final java.util.concurrent.CountDownLatch READY = new java.util.concurrent.CountDownLatch(1);
    private static volatile boolean spring;

    public static void springStarting() {
        spring = true;
    }

    public static void ready() {
        READY.countDown();
    }

    /**
     * Called by Tomcat's acceptor thread before its first accept(): in a Spring application the connector starts
     * before the app's runners have run, and on a shared socket an accepting worker gets connections.
     * SPIKE_NO_GATE turns the gate off, for comparison.
     */
    public static void awaitReady() {
        if (!spring || System.getenv("SPIKE_NO_GATE") != null) {
            return;
        }
        try {
            READY.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        System.err.printf("spike-agent: acceptor released at %d ms after JVM start%n", uptime());
    }

    public static void requestStart() {
        REQUESTS.incrementAndGet();
        INFLIGHT.put(Thread.currentThread(), System.nanoTime());
    }

    public static void requestEnd() {
        INFLIGHT.remove(Thread.currentThread());
    }

    static long oldestInflightMs() {
        long now = System.nanoTime();
        return INFLIGHT.values().stream().mapToLong(t -> (now - t) / 1_000_000).max().orElse(0);
    }

    /**
     * Drover-style drain of the servers' connectors: stop accepting (the other workers keep accepting on the shared
     * socket), answer the next request on each keep-alive connection with Connection: close, let in-flight requests
     * finish, then exit.
     */
    static void drain() {
        long started = System.nanoTime();
        System.err.printf("spike-agent: drain: %d requests so far, %d in flight%n", REQUESTS.get(), INFLIGHT.size());
        for (Object c : CONNECTORS) {
            try {
                if (c.getClass().getName().equals("org.apache.catalina.connector.Connector")) {
                    drainTomcat(c);
                } else { // Jetty: stop accepting; its connections then answer with Connection: close
                    call(c, "shutdown");
                }
            } catch (ReflectiveOperationException e) {
                System.err.println("spike-agent: drain of " + c + " failed: " + e);
            }
        }
        // Idle keep-alive connections: give their clients a grace period for a request already on its way.
        long graceEnd = System.nanoTime() + 1_000_000_000L;
        while (!INFLIGHT.isEmpty() || System.nanoTime() < graceEnd) {
            sleep(20);
        }
        System.err.printf("spike-agent: drained in %d ms (%d requests), exiting%n",
                (System.nanoTime() - started) / 1_000_000, REQUESTS.get());
        System.exit(0);
    }

    /**
     * Not Connector.pause(): a paused Tomcat 10.1 closes a keep-alive connection without answering the request that
     * arrives on it, and answers a request already being read with 503; and pause() wakes its acceptor by connecting
     * to the listening address, which on a shared socket may land in another worker while this acceptor stays in
     * accept() and then drops the next real client. Instead: the next response on each connection says
     * Connection: close, the acceptor is told to stop, and its copy of the listener is closed, which wakes its
     * accept() through the JDK (no connection is taken from the shared queue).
     */
    private static void drainTomcat(Object connector) throws ReflectiveOperationException {
        Object protocol = call(connector, "getProtocolHandler");
        protocol.getClass().getMethod("setMaxKeepAliveRequests", int.class).invoke(protocol, 1);
        Object endpoint = field(protocol, "org.apache.coyote.AbstractProtocol", "endpoint");
        Object acceptor = field(endpoint, "org.apache.tomcat.util.net.AbstractEndpoint", "acceptor");
        Method serverSocket = endpoint.getClass().getDeclaredMethod("getServerSocket");
        serverSocket.setAccessible(true);
        // Close first: a connection accept() has already returned is then served as usual. Telling the acceptor to
        // stop first would make it drop a connection accepted in between (it checks the flag after accept()).
        try {
            ((java.nio.channels.Channel) serverSocket.invoke(endpoint)).close();
        } catch (java.io.IOException e) {
            System.err.println("spike-agent: closing Tomcat's listener: " + e);
        }
        sleep(50); // the acceptor sees the close (one "Socket accept failed" log line) and backs off; then stop it
        java.lang.reflect.Field stopCalled = acceptor.getClass().getDeclaredField("stopCalled");
        stopCalled.setAccessible(true);
        stopCalled.setBoolean(acceptor, true);
    }

    private static Object field(Object target, String declaringClass, String name) throws ReflectiveOperationException {
        java.lang.reflect.Field f = Class.forName(declaringClass, false, target.getClass().getClassLoader()).getDeclaredField(name);
        f.setAccessible(true);
        return f.get(target);
    }

    private static Object call(Object target, String method) throws ReflectiveOperationException {
        Method m = target.getClass().getMethod(method);
        return m.invoke(target);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long uptime() {
        return ManagementFactory.getRuntimeMXBean().getUptime();
    }
}
