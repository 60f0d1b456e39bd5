package dev.drover.agent.it;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Concurrent GET /hello load on the shared port: keep-alive clients (reconnecting when the server says
 * Connection: close, as a careful client does) and clients with one request per connection. Counts answers per
 * child and every failure: a request dropped, refused or not answered with 200. The keep-alive clients pause 30 ms
 * between requests: a tight loop would reach Tomcat's default of 100 requests per connection within the drain's
 * grace and so close its connections politely even without the agent's help, hiding a drain that leaves them open.
 */
final class Load implements AutoCloseable {
    private final int port;
    private final List<Thread> threads = new ArrayList<>();
    private final Map<String, AtomicLong> answersByChild = new ConcurrentHashMap<>();
    final List<String> failures = new CopyOnWriteArrayList<>();
    private volatile boolean running = true;

    Load(int port, int keepAliveClients, int freshClients) {
        this.port = port;
        for (int i = 0; i < keepAliveClients; i++) {
            threads.add(new Thread(this::keepAliveClient, "load-keepalive-" + i));
        }
        for (int i = 0; i < freshClients; i++) {
            threads.add(new Thread(this::freshClient, "load-fresh-" + i));
        }
        threads.forEach(Thread::start);
    }

    long answers(String child) {
        return answersByChild.computeIfAbsent(child, c -> new AtomicLong()).get();
    }

    long total() {
        return answersByChild.values().stream().mapToLong(AtomicLong::get).sum();
    }

    private void keepAliveClient() {
        while (running) {
            try (HttpConnection connection = new HttpConnection(port, 10_000)) {
                while (running && !connection.serverCloses()) {
                    count(connection.get("/hello"));
                    Thread.sleep(30);
                }
            } catch (IOException e) {
                failures.add(Thread.currentThread().getName() + ": " + e);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void freshClient() {
        while (running) {
            try (HttpConnection connection = new HttpConnection(port, 10_000)) {
                count(connection.get("/hello"));
            } catch (IOException e) {
                failures.add(Thread.currentThread().getName() + ": " + e);
            }
        }
    }

    private void count(HttpConnection.Response response) {
        if (response.status() != 200) {
            failures.add("status " + response.status() + ": " + response.body());
            return;
        }
        answersByChild.computeIfAbsent(response.body().replace("hello from child ", ""), c -> new AtomicLong())
                .incrementAndGet();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread thread : threads) {
            thread.join(15_000);
        }
    }
}
