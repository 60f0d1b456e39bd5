package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The hard memory limit as a ceiling, for one worker that leaks 64 MiB a request with no soft limit: two such
 * requests take it past the limit within a few readings, faster than a replacement could boot, so that only the
 * hard limit can stop it (two connections pinned to it, each request held 300 ms so that a /leak is always in
 * flight): it is sent CEILING, stops accepting at once, answers the requests it has in flight and exits; its
 * replacement boots at once. A failed request can only be one the leaking worker had in flight (none if it exited
 * by itself); the leak report names the path that was in flight. On a slow machine (CI's boots of 1.5-2.2 s, or two
 * busy loops beside the test) the leak grows slowly enough at first (57-120 MiB/s) that the projection calls it
 * first: a memory-projected recycle, replacement first, and the ceiling then reaches it while it drains, with the
 * same promise (its requests in flight answered, then SIGKILL at the deadline). Both ways are checked.
 */
@Timeout(90)
class MemoryCeilingSingleIT {

    @Test
    void aWorkerAtTheHardLimitAnswersWhatItHasInFlightAndOnlyItIsReplaced() throws Exception {
        Path dir = DroverProcess.tempDir("drover-ceiling");
        Path pidfile = dir.resolve("app.pid");
        // -Xmx2g: far above the hard limit, so that the heap is no ceiling of its own before the master's reading.
        Path conf = Files.writeString(dir.resolve("ceiling.conf"), String.join("\n",
                "drover {",
                "  app = dev.drover.sample.SampleApp",
                "  workers = 2",
                "  bind = [\"127.0.0.1:0\"]",
                "  pidfile = \"" + pidfile + "\"",
                "  worker-jvm-options = [\"-Xmx2g\"]",
                "  memory { hard-limit = 400M }",
                "}", ""));
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()),
                Map.of("DROVER_LEAK_REPORTS_DIR", dir.resolve("reports").toString()))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            String leaker = drover.awaitLine("worker 1 \\(pid (\\d+), gen 1\\) ready in", 0, Duration.ofSeconds(5))
                    .group(1);
            int mark = drover.lineCount();
            long inflightAtCeiling;
            Matcher gone;
            String reason;
            try (Load hello = Load.start(port, "/", 2, 1, 2); Pinned leak = Pinned.start(port, 1, 2,
                    "/leak?kb=65536&worker=1&hold_ms=300")) {
                Matcher ceiling = drover.awaitLine("worker 1 \\(pid " + leaker + ", gen 1\\) at the memory ceiling "
                        + "(\\(memory-hard\\)|while draining \\(memory-projected\\)): rss [0-9.]+ MiB (is over|growing "
                        + "[0-9]+ MiB/s would be over) drover.memory.hard-limit \\(400.0 MiB\\).*(it stops accepting now "
                        + "and has|it has) [0-9.]+s to answer them, then SIGKILL", mark, Duration.ofSeconds(40));
                reason = ceiling.group(1).contains("projected") ? "memory-projected" : "memory-hard";
                // It exits by itself once its requests are answered, unless it is SIGKILLed first: at its deadline, or
                // at once because its memory went on rising (a request still allocating, or its JVM's exit and GC
                // raising RSS past the 5 % it is allowed).
                // (memory-hard: "is gone (...; recycled: memory-hard; at the memory ceiling: ..."; memory-projected:
                // "stopped after draining (...; at the memory ceiling: ...")
                gone = drover.awaitLine("worker 1 \\(pid " + leaker + ", gen 1\\) "
                        + (reason.equals("memory-hard") ? "is gone \\(.*; recycled: memory-hard"
                                : "stopped after draining \\(.*")
                        + "; at the memory ceiling: (?<how>it exited by itself [0-9.]+m?s after CEILING, every request"
                        + " it had in flight answered|SIGKILLed at its deadline|SIGKILLed at once: it went on growing)",
                        mark, Duration.ofSeconds(10));
                // The worker names what it had in flight as it stops accepting, unless the SIGKILL came first (or it
                // was draining already, and says nothing then): then at most one request per client connection (2
                // pinned, 3 plain) can have been on it.
                inflightAtCeiling = gone.group("how").startsWith("SIGKILLed at once") || !reason.equals("memory-hard")
                        ? 5 : Long.parseLong(drover.awaitLine("worker 1 \\(pid " + leaker + ", gen 1\\) \\| WARN  Worker - "
                        + "at the memory ceiling: stopped accepting; (no|\\d+) request", mark, Duration.ofSeconds(10))
                        .group(1).replace("no", "0"));
                leak.awaitDone(Duration.ofSeconds(10)); // each pinned connection ends with the answer that closes it
                drover.awaitLine("worker 1 \\(pid (?!" + leaker + ")\\d+, gen 1\\) ready in", mark, Duration.ofSeconds(30));
                hello.awaitMore(50, Duration.ofSeconds(20)); // the replacement serves with the other worker
                hello.close();
                // Only the leaking worker could lose a request, and only one it had in flight at the ceiling (a plain
                // one too, if it was there): what failed, of both kinds of traffic, is at most that; none failed if it
                // exited by itself; and each pinned connection ends with an answer that closes it (Connection: close)
                // or, at worst, with the failure of the one request it had in flight.
                long failed = hello.failed.get() + leak.failed.get();
                String summary = "plain: " + hello.summary() + "; pinned: " + leak.summary() + "; in flight at the "
                        + "ceiling: " + inflightAtCeiling + "; " + reason + ", " + gone.group("how");
                assertTrue(failed <= inflightAtCeiling, summary);
                assertEquals(2, leak.closedByServer.get() + leak.failed.get(), summary);
                if (gone.group("how").startsWith("it exited by itself")) {
                    assertEquals(0, failed, summary);
                }
            }
            Matcher report = drover.awaitLine("leak report (\\S+) for worker 1 \\(pid " + leaker + ", gen 1\\): .*; in "
                    + "flight when the worker was stopped: ([^;]*); full report", mark, Duration.ofSeconds(10));
            assertTrue(report.group(2).matches(gone.group("how").startsWith("SIGKILLed at once")
                    ? "(.*GET /leak \\(\\d+ requests?, .*|the runtime could not tell .*)"
                    : ".*GET /leak \\(\\d+ requests?, .*"), report.group(2));
            DroverProcess.Result full = Ctl.run(pidfile, "leaks", report.group(1), "--json");
            assertEquals(0, full.exitCode(), full.output());
            Config json = ConfigFactory.parseString(full.output(), ConfigParseOptions.defaults()
                    .setSyntax(ConfigSyntax.JSON));
            assertEquals(reason, json.getString("reason"), full.output());
            assertTrue(!json.getString("inflight_when_stopped").contains("kb="), "no query string: " + full.output());
            Config status = Ctl.status(pidfile);
            assertTrue(status.getLong("recycles." + reason) >= 1, status.toString());
        }
    }

    /**
     * Keep-alive clients pinned to one worker: each opens connections until one is answered by worker {@code id},
     * then sends {@code path} on it in a loop until an answer closes it (Connection: close) or it fails.
     */
    private static final class Pinned implements AutoCloseable {
        final java.util.concurrent.atomic.AtomicLong ok = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong failed = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong closedByServer = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.ConcurrentLinkedQueue<String> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
        private final List<Thread> threads = new java.util.ArrayList<>();
        private final List<Http> open = new java.util.concurrent.CopyOnWriteArrayList<>();

        static Pinned start(int port, int id, int clients, String path) {
            Pinned pinned = new Pinned();
            for (int i = 0; i < clients; i++) {
                Thread t = new Thread(() -> pinned.run(port, id, path), "pinned-" + i);
                t.setDaemon(true);
                pinned.threads.add(t);
                t.start();
            }
            return pinned;
        }

        private void run(int port, int id, String path) {
            try (Http http = connectTo(port, id)) {
                open.add(http);
                while (true) {
                    Http.Response r = http.send(path, true);
                    if (r.status() != 200) {
                        failed.incrementAndGet();
                        failures.add("HTTP " + r.status());
                    } else {
                        ok.incrementAndGet();
                    }
                    if (r.closes()) {
                        closedByServer.incrementAndGet();
                        return;
                    }
                }
            } catch (IOException e) {
                failed.incrementAndGet();
                failures.add(java.time.LocalTime.now() + " " + e);
            }
        }

        /** A keep-alive connection that worker {@code id} answers (the kernel hands connections to either worker). */
        private static Http connectTo(int port, int id) throws IOException {
            for (int attempt = 0; attempt < 100; attempt++) {
                Http http = Http.connect(port);
                if (String.valueOf(id).equals(http.send("/", true).headers().get("x-worker-id"))) {
                    return http;
                }
                http.close();
            }
            throw new IOException("no connection to worker " + id + " in 100 attempts");
        }

        void awaitDone(Duration timeout) throws InterruptedException {
            DroverProcess.awaitCondition("every pinned client done (" + summary() + ")", timeout,
                    () -> threads.stream().noneMatch(Thread::isAlive));
        }

        String summary() {
            return "pinned to the leaking worker: " + ok + " ok, " + failed + " failed " + failures;
        }

        @Override
        public void close() {
            for (Http http : open) {
                try {
                    http.close(); // unblocks a client still waiting when the test failed
                } catch (IOException e) {
                    // closing anyway
                }
            }
        }
    }
}
