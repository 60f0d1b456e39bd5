package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Planned recycles under load: surge-first, so no request is lost and capacity never dips. */
class RecycleIT {

    private static final Pattern SPAWNED = Pattern.compile("\\] worker \\d+ \\(pid (\\d+), gen \\d+\\) spawned$");
    private static final Pattern LEFT = Pattern.compile("\\] worker \\d+ \\(pid (\\d+), gen \\d+\\) "
            + "(recycled|died unexpectedly|stopped after draining|is gone|killed|is hung)");

    /** The most workers holding a slot (booting or serving) at any moment, replayed from the master's log. */
    static int mostWorkersAtOnce(String log) {
        Set<String> live = new HashSet<>();
        int most = 0;
        for (String line : log.split("\n")) {
            Matcher spawned = SPAWNED.matcher(line);
            Matcher left = LEFT.matcher(line);
            if (spawned.find()) {
                live.add(spawned.group(1));
            } else if (left.find()) {
                live.remove(left.group(1));
            }
            most = Math.max(most, live.size());
        }
        return most;
    }

    @Test
    void maxRequestsUnderKeepAliveAndFreshLoadLosesNothing() throws Exception {
        Path pidfile = DroverProcess.tempDir("drover-recycle").resolve("app.pid");
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "2", "-b", "127.0.0.1:0", "-p", pidfile.toString(),
                "--max-requests", "50",
                "--max-requests-jitter", "10", "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            try (Load load = Load.start(port, "/", 3, 3)) {
                DroverProcess.awaitCondition("8 recycles and 3000 requests", Duration.ofSeconds(120),
                        () -> drover.countLines("recycled \\(max-requests\\)") >= 8 && load.total() >= 3000);
                load.close();
                assertEquals(0, load.failed.get(), load.summary() + "\n" + drover.output());
                assertTrue(load.byWorker.size() >= 8, "the worker pids changed many times: " + load.byWorker.keySet());
            }
            assertTrue(mostWorkersAtOnce(drover.output()) <= 3,
                    "never more than workers + max-surge (2 + 1) at once:\n" + drover.output());
            assertTrue(drover.output().matches("(?s).*worker \\d \\(pid \\d+, gen 1\\) is due for recycling \\(max-requests\\): "
                    + "served \\d+ requests \\(its limit: (5\\d|60)\\); age [0-9.]+s, \\d+ requests served, rss [0-9.]+ MiB.*"),
                    "each recycle is logged with its reason, age, requests and memory");
            var status = Ctl.status(pidfile);
            assertTrue(status.getLong("recycles.max-requests") >= 8, status.toString());
            for (var worker : status.getConfigList("workers")) {
                long limit = worker.getLong("request_limit");
                assertTrue(limit >= 50 && limit <= 60, "max-requests + jitter: " + limit);
            }
        }
    }

    @Test
    void aLongRequestOnAWorkerThatReachedItsLimitCompletes() throws Exception {
        Path pidfile = DroverProcess.tempDir("drover-long").resolve("app.pid");
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "1", "-b", "127.0.0.1:0", "-p", pidfile.toString(),
                "--max-requests", "5", "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(1, Duration.ofSeconds(60));
            long first = Ctl.servingPids(pidfile).get(0);
            CompletableFuture<Http.Response> slow = CompletableFuture.supplyAsync(() -> {
                try {
                    return Http.get(port, "/sleep?ms=8000");
                } catch (java.io.IOException e) {
                    throw new RuntimeException(e);
                }
            });
            for (int i = 0; i < 5; i++) {
                assertEquals(first, Http.get(port, "/").workerPid());
            }
            drover.awaitLine("worker 1 \\(pid " + first + ", gen 1\\) recycled \\(max-requests\\).*draining",
                    Duration.ofSeconds(30));
            assertTrue(!slow.isDone(), "the drain began while the long request was still in flight");
            Http.Response response = slow.get();
            assertEquals(200, response.status());
            assertEquals(first, response.workerPid());
            assertTrue(response.body().startsWith("slept 8000 ms"), response.body());
            drover.awaitLine("worker 1 \\(pid " + first + ", gen 1\\) stopped after draining \\(exited with code 0\\)",
                    Duration.ofSeconds(10));
            assertTrue(Ctl.status(pidfile).getLong("recycles.max-requests") >= 1);
        }
    }
}
