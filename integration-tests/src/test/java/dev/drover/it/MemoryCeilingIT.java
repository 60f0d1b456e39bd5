package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 13's scenario, shortened: two workers leaking hundreds of MiB a second under concurrent load, with every
 * worker's RSS read from outside at 10 Hz. The memory policy must see the hard limit coming: no reading above it by
 * more than 5 %, most recycles graceful (memory-projected or memory), leak reports that name the leaked class, and
 * no request lost.
 */
@Timeout(120)
class MemoryCeilingIT {

    private static final long HARD = 600L << 20;
    private static final double TOLERANCE = 1.05;
    private static final String LEAKED_CLASS = "dev.drover.sample.LeakyCache$LeakedBlock";

    @Test
    void aFastLeakIsRecycledGracefullyAndNeverPassesTheHardLimit() throws Exception {
        Path dir = DroverProcess.tempDir("drover-ceiling");
        Path pidfile = dir.resolve("app.pid");
        Path conf = Files.writeString(dir.resolve("ceiling.conf"), String.join("\n",
                "drover {",
                "  app = dev.drover.sample.SampleApp",
                "  workers = 2",
                "  bind = [\"127.0.0.1:0\"]",
                "  pidfile = \"" + pidfile + "\"",
                "  worker-jvm-options = [\"-Xmx1g\"]",
                "  memory { soft-limit = 300M, hard-limit = 600M }",
                // A worker lives a second or two here (less on a fast machine): its baseline histogram is taken just
                // after READY, so that even a worker stopped at the ceiling has one to compare its final one with.
                "  leak-reports { baseline-after = 100ms }",
                "}", ""));
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()),
                Map.of("DROVER_LEAK_REPORTS_DIR", dir.resolve("reports").toString()))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            RssSampler sampler = new RssSampler(drover.pid());
            Load load = Load.start(port, "/leak?kb=64", 4, 0);
            try (sampler) {
                // Load until 3 recycles have ended (a few seconds per worker at this leak rate; far more on a busy
                // machine, where boots are slow and the load lighter), 45 s at most.
                awaitQuietly(Duration.ofSeconds(45), () -> recyclesEnded(drover) >= 3);
            } finally {
                load.close();
            }
            assertTrue(recyclesEnded(drover) >= 2, "fewer than 2 memory recycles ended under load:\n" + drover.output());
            String log = drover.output();
            long hard = sigkilled(drover);
            long projected = drover.countLines("is due for recycling \\(memory-projected\\): rss [0-9.]+ MiB growing "
                    + "\\d+ MiB/s reaches drover.memory.hard-limit \\(600.0 MiB\\) in [0-9.]+s; a replacement needs "
                    + "~[0-9.]+s: replacing now");
            Config status = Ctl.status(pidfile);
            assertAll(
                    () -> assertTrue(sampler.samples.get() > 50, "the sampler read " + sampler.samples.get()),
                    // The master reads every worker every 100 ms (every 25 ms near the hard limit) and stops one
                    // whose rate passes the limit within 0.5 s: no reading from outside may be over 1.05 x.
                    () -> assertTrue(sampler.peak.get() <= HARD * TOLERANCE, "over 1.05 x: " + sampler.over
                            + ", peak RSS " + (sampler.peak.get() >> 20) + " MiB against a hard limit of 600 MiB:\n"
                            + recycleLines(log)),
                    () -> assertTrue(projected > 0, "no memory-projected recycle in:\n" + log),
                    // A projected recycle whose worker reaches the ceiling before its replacement is ready counts as
                    // memory-hard: between them they count every memory recycle that ended.
                    () -> assertTrue(status.getLong("recycles.memory-projected") + status.getLong("recycles.memory-hard")
                            >= recyclesEnded(drover), status.toString()),
                    () -> assertTrue(graceful(drover) > hard, graceful(drover) + " graceful recycle(s) (drained, or "
                            + "ended by itself at the ceiling), " + hard + " SIGKILL(s) at the hard limit:\n"
                            + recycleLines(log)),
                    () -> assertTrue(leakReportNames(pidfile, LEAKED_CLASS), "no memory recycle's leak report "
                            + "names " + LEAKED_CLASS + ":\n" + log),
                    () -> assertEquals(0, load.failed.get(), load.summary() + "\n" + recycleLines(log)));
        }
    }

    /** The master's lines about memory recycles, for a failure message. */
    private static String recycleLines(String log) {
        return log.lines().filter(l -> l.contains("memory") || l.contains("stopped after draining")
                || l.contains("ready in") || l.contains("is gone")).collect(java.util.stream.Collectors.joining("\n"));
    }

    /** Memory recycles that are over: drains completed, workers gone from the ceiling, and hard-limit kills. */
    private static long recyclesEnded(DroverProcess drover) {
        return drained(drover) + drover.countLines("recycled: memory-hard; at the memory ceiling: ")
                + drover.countLines("stopped after draining \\(killed") + drover.countLines("killed \\(memory-hard\\)");
    }

    /**
     * Recycles that lost nothing: drains completed (projected or soft, and a drain the leak overtook that ended by
     * itself under the ceiling), and workers stopped at the ceiling that exited by themselves once they had answered
     * every request in flight.
     */
    private static long graceful(DroverProcess drover) {
        return drained(drover) + drover.countLines("recycled: memory-hard; at the memory ceiling: it exited by itself");
    }

    /** Workers SIGKILLed for memory: at once at the hard limit, or under the ceiling (its deadline, or 1.05 x). */
    private static long sigkilled(DroverProcess drover) {
        return drover.countLines("killed \\(memory-hard\\)") + drover.countLines("at the memory ceiling: SIGKILLed");
    }

    /** Like DroverProcess.awaitCondition, but returns at the deadline instead of failing: the caller asserts. */
    private static void awaitQuietly(Duration timeout, java.util.function.BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() - deadline < 0) {
            Thread.sleep(50); // the poll interval of a condition with a deadline
        }
    }

    /** Workers that finished a drain: graceful recycles, the only drains in this test. */
    private static long drained(DroverProcess drover) {
        return drover.countLines("\\) stopped after draining \\(exited with code 0");
    }

    /** Whether a report of a memory recycle (projected, soft or at the ceiling) ranks {@code className} among its classes. */
    private static boolean leakReportNames(Path pidfile, String className) throws Exception {
        DroverProcess.Result listed = Ctl.run(pidfile, "leaks", "--json");
        assertEquals(0, listed.exitCode(), listed.output());
        for (Config row : json(listed.output()).getConfigList("leaks")) {
            if (row.getString("reason").startsWith("memory")) {
                DroverProcess.Result full = Ctl.run(pidfile, "leaks", row.getString("id"), "--json");
                if (full.output().contains(className)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static Config json(String text) {
        return ConfigFactory.parseString(text, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
    }

    /**
     * Every worker's RSS, read from outside at 10 Hz as an operator's monitoring would: the workers are the
     * master's children (/proc/MASTER/task/TID/children), each read from /proc/PID/status (VmRSS, in kB: the
     * statm figure without having to know the page size).
     */
    static final class RssSampler implements AutoCloseable {
        final AtomicLong peak = new AtomicLong();
        final AtomicLong samples = new AtomicLong();
        /** The workers seen over HARD x TOLERANCE. */
        final java.util.Set<Long> over = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private final long master;
        private final Thread thread;
        private volatile boolean running = true;

        RssSampler(long master) {
            this.master = master;
            this.thread = new Thread(this::loop, "rss-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        private void loop() {
            while (running) {
                for (long pid : children()) {
                    long rss = rssBytes(pid);
                    if (rss > 0) {
                        samples.incrementAndGet();
                        peak.accumulateAndGet(rss, Math::max);
                        if (rss > HARD * TOLERANCE) {
                            over.add(pid);
                        }
                    }
                }
                try {
                    Thread.sleep(100); // the sampling period, not a wait for anything
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        private List<Long> children() {
            List<Long> pids = new ArrayList<>();
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(master), "task"))) {
                for (Path task : tasks) {
                    for (String pid : Files.readString(task.resolve("children")).trim().split("\\s+")) {
                        if (!pid.isEmpty()) {
                            pids.add(Long.parseLong(pid));
                        }
                    }
                }
            } catch (IOException e) {
                // a task ended while listed: the next round sees the rest
            }
            return pids;
        }

        private static long rssBytes(long pid) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // gone between the listing and the read
            }
            return -1;
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(2000);
        }
    }
}
