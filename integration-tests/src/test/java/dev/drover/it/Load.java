package dev.drover.it;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Concurrent HTTP load from client threads, counting every response and every failure (a reset, a close without
 * an answer, a non-200) and which worker answered. Keep-alive clients reuse their connection until the server
 * says Connection: close; the others open one connection per request.
 */
final class Load implements AutoCloseable {

    private final int port;
    private final String path;
    private final long pauseMs;
    private final AtomicBoolean running = new AtomicBoolean(true);
    /** Set by {@link #stopConnecting()}: a client whose connection has ended stops instead of opening another. */
    private final AtomicBoolean noNewConnections = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    final AtomicLong ok = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    final Map<Long, AtomicLong> byWorker = new ConcurrentHashMap<>();
    /** The body of each worker's first answer (an app that knows nothing of Drover names its version there). */
    final Map<Long, String> firstBodyByWorker = new ConcurrentHashMap<>();

    private Load(int port, String path, long pauseMs) {
        this.port = port;
        this.path = path;
        this.pauseMs = pauseMs;
    }

    /** Starts {@code keepAlive} keep-alive clients and {@code fresh} connection-per-request clients, flat out. */
    static Load start(int port, String path, int keepAlive, int fresh) {
        return start(port, path, keepAlive, fresh, 0);
    }

    /**
     * The same, each client pausing {@code pauseMs} between requests: steady load that leaves the CPU to the JVMs
     * that boot during recycles (two cores are shared by the clients, the master and every worker).
     */
    static Load start(int port, String path, int keepAlive, int fresh, long pauseMs) {
        Load load = new Load(port, path, pauseMs);
        for (int i = 0; i < keepAlive + fresh; i++) {
            boolean reuse = i < keepAlive;
            Thread t = new Thread(() -> load.client(reuse), "load-" + i);
            t.setDaemon(true);
            load.threads.add(t);
            t.start();
        }
        return load;
    }

    private void client(boolean keepAlive) {
        Http http = null;
        while (running.get()) {
            try {
                if (http == null) {
                    if (noNewConnections.get()) {
                        break;
                    }
                    http = Http.connect(port);
                }
                Http.Response response = http.send(path, keepAlive);
                if (response.status() == 200) {
                    ok.incrementAndGet();
                    byWorker.computeIfAbsent(response.workerPid(), k -> new AtomicLong()).incrementAndGet();
                    firstBodyByWorker.putIfAbsent(response.workerPid(), response.body());
                } else {
                    fail("HTTP " + response.status());
                }
                if (!keepAlive || response.closes()) {
                    http.close();
                    http = null;
                }
                if (pauseMs > 0) {
                    Thread.sleep(pauseMs); // pacing the load, not waiting for anything
                }
            } catch (IOException e) {
                // When and on which kind of connection: to be matched against the master's log lines.
                fail(java.time.LocalTime.now() + " " + (keepAlive ? "keep-alive" : "fresh") + " " + e);
                closeQuietly(http);
                http = null;
            } catch (InterruptedException e) {
                break;
            }
        }
        closeQuietly(http);
    }

    private void fail(String why) {
        failed.incrementAndGet();
        if (failures.size() < 50) {
            failures.add(why);
        }
    }

    private static void closeQuietly(Http http) {
        try {
            if (http != null) {
                http.close();
            }
        } catch (IOException e) {
            // nothing to do
        }
    }

    /**
     * From now on no client opens a connection: fresh-connection clients stop after their request in flight,
     * keep-alive clients after the answer that closes their connection (Connection: close). What a graceful stop
     * owes such clients is exactly that: every request sent gets its answer.
     */
    void stopConnecting() {
        noNewConnections.set(true);
    }

    /** Waits until every client has stopped (after {@link #stopConnecting()}), or fails the test after the timeout. */
    void awaitClientsDone(java.time.Duration timeout) throws InterruptedException {
        DroverProcess.awaitCondition("every load client done (" + summary() + ")", timeout,
                () -> threads.stream().noneMatch(Thread::isAlive));
    }

    long total() {
        return ok.get() + failed.get();
    }

    /** Waits until at least {@code n} more requests have completed, or fails the test after the timeout. */
    void awaitMore(long n, java.time.Duration timeout) throws InterruptedException {
        long target = total() + n;
        DroverProcess.awaitCondition(n + " more requests (now " + total() + ")", timeout, () -> total() >= target);
    }

    String summary() {
        return ok + " ok, " + failed + " failed " + failures + ", by worker " + byWorker;
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(70));
        }
    }
}
