package dev.drover.worker.runtime;

import dev.drover.agent.ServerView;
import dev.drover.agent.WarmUpReport;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Test stand-in for the worker runtime's ForeignMain: the agent loads it from DROVER_INTERNAL_RUNTIME_CLASSPATH
 * exactly as it loads the real one, and it lets the test drive {@link ServerView} over a line protocol on the
 * loopback port in DROVER_TEST_CONTROL (one command a line, one answer a line).
 */
public final class ForeignMain {
    private static volatile String notified = "none";

    private ForeignMain() {
    }

    public static void start() {
        Thread driver = new Thread(ForeignMain::serve, "test-driver");
        driver.setDaemon(true);
        driver.start();
    }

    private static void serve() {
        int port = Integer.parseInt(System.getenv("DROVER_TEST_CONTROL"));
        try (Socket control = new Socket(InetAddress.getLoopbackAddress(), port);
             BufferedReader in = new BufferedReader(
                     new InputStreamReader(control.getInputStream(), StandardCharsets.UTF_8));
             PrintWriter out = new PrintWriter(control.getOutputStream(), true, StandardCharsets.UTF_8)) {
            out.println("child " + System.getenv("DROVER_TEST_CHILD"));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                out.println(answer(line.trim()));
            }
        } catch (IOException e) {
            System.err.println("test driver: " + e);
        }
    }

    private static String answer(String command) {
        String[] words = command.split(" ");
        try {
            switch (words[0]) {
                case "ready":
                    return "ok " + ServerView.ready().get(60, TimeUnit.SECONDS);
                case "warmup": // warmup COUNT TIME_LIMIT_MS PATH...: GET requests
                    WarmUpReport report = ServerView.warmUp(Integer.parseInt(words[1]),
                            Arrays.stream(words, 3, words.length).map(path -> "GET " + path).toList(),
                            Long.parseLong(words[2]));
                    return String.format("ok sent=%d 2xx=%d other=%d stopped=%s skipped=%s", report.sent(),
                            report.answered2xx(), report.answeredOther(), report.stoppedBecause().replace(' ', '_'),
                            report.skipped().replace(' ', '_'));
                case "open":
                    ServerView.startAccepting();
                    return "ok";
                case "stats":
                    return String.format("requests=%d inflight=%d oldest=%d connections=%d", ServerView.requests(),
                            ServerView.inflight(), ServerView.oldestInflightMillis(), ServerView.connections());
                case "notify":
                    ServerView.notifyAtRequest(Long.parseLong(words[1]),
                            () -> notified = Thread.currentThread().getName());
                    return "ok";
                case "inflight": // METHOD PATH AGE_MS;... or "not told"
                    java.util.List<String[]> seen = ServerView.inflightRequests();
                    return seen == null ? "not told" : "inflight " + String.join(";",
                            seen.stream().map(r -> String.join(" ", r)).toList());
                case "notified":
                    return "notified " + notified;
                case "drain":
                    long started = System.nanoTime();
                    ServerView.drain().get(60, TimeUnit.SECONDS);
                    return "drained " + (System.nanoTime() - started) / 1_000_000;
                case "exit":
                    System.exit(0);
                    return "unreachable";
                default:
                    return "unknown command " + command;
            }
        } catch (ExecutionException e) {
            return "refused " + e.getCause().getMessage();
        } catch (Exception e) {
            return "failed " + e;
        }
    }
}
