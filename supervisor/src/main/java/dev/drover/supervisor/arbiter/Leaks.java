package dev.drover.supervisor.arbiter;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import dev.drover.supervisor.config.Settings;
import dev.drover.supervisor.control.Json;
import dev.drover.supervisor.leaks.LeakReport;
import dev.drover.supervisor.leaks.LeakReports;
import java.io.IOException;
import dev.drover.supervisor.os.WorkerDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leak reports for workers recycled for memory or dead of OutOfMemoryError: when such a worker is gone, its facts are copied on the arbiter
 * thread and the report is built and written on a thread of its own (reading the evidence file and the earlier
 * reports takes milliseconds the arbiter should not spend).
 */
final class Leaks {

    private static final Logger log = LoggerFactory.getLogger(Leaks.class);

    private final java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "drover-leak-reports");
        t.setDaemon(true);
        return t;
    });

    private static LeakReports reports(Settings settings) {
        return new LeakReports(settings.leakReports().dir(), settings.leakReports().keep());
    }

    /** A directory read that answers a ctl command: the reports as of now. */
    interface Reading {
        String answer(LeakReports reports) throws IOException;
    }

    /**
     * On the arbiter thread: answers {@code reply} from the reports directory, read on the reports' own thread (in
     * order with the reports being written), so the arbiter never waits for the disk.
     */
    void read(Settings settings, CompletableFuture<String> reply, Reading reading) {
        LeakReports reports = reports(settings);
        writer.execute(() -> {
            try {
                reply.complete(reading.answer(reports));
            } catch (IOException | RuntimeException e) {
                reply.complete(Json.write(Map.of("error",
                        "cannot read the leak reports in " + reports.dir() + ": " + e)));
            }
        });
    }

    /** Leak reports written since the master started (/metrics). */
    long written() {
        return written.get();
    }

    /** On the arbiter thread: a worker recycled for memory, or dead of OutOfMemoryError, has exited ({@code settings}: the current ones). */
    void workerGone(WorkerHandle w, long now, Settings settings) {
        LeakReports reports = reports(settings);
        LeakReport.Worker worker = new LeakReport.Worker(w.id(), w.pid(), w.generation(), settings.app(),
                w.ageMs(now), w.requests());
        long soft = settings.memory().softLimit();
        LeakReport.Limit limit = new LeakReport.Limit(w.recycleReason().label(), w.recycleWhy(), soft);
        var series = w.series().samples();
        long baselineAfter = settings.leakReports().baselineAfter().toMillis();
        Path evidence = w.evidenceFile();
        String noEvidence = switch (w.recycleReason()) {
            case MEMORY_HARD -> w.underCeiling()
                    ? "SIGKILLed at the memory ceiling (drover.memory.hard-limit) before it wrote its evidence"
                    : "killed at once at the hard limit (drover.memory.hard-limit), with no time to take one";
            case OOM -> "the worker died of " + w.recycleWhy() + " (the JVM exits on it: -XX:+ExitOnOutOfMemoryError),"
                    + " with no time to take one";
            case MEMORY_OOM_KILL -> "killed by the kernel at memory.max of its cgroup, with no time to take one";
            default -> "the worker exited without writing it (see its log lines above)";
        };
        long createdAt = System.currentTimeMillis();
        writer.execute(() -> {
            try {
                Config parsed = null;
                if (evidence != null && Files.exists(evidence)) {
                    parsed = ConfigFactory.parseString(WorkerDirectory.read(evidence),
                            ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
                    Files.deleteIfExists(evidence);
                }
                List<LeakReport.Earlier> earlier = reports.earlier(worker.app());
                LeakReport report = LeakReport.build(createdAt, worker, limit, series, baselineAfter, parsed,
                        noEvidence, earlier);
                Path text = reports.write(report);
                written.incrementAndGet();
                log.warn(report.summary(text.toString()));
            } catch (Exception e) {
                log.warn("cannot write the leak report of {} to {}: {}", "worker " + worker.id() + " (pid "
                        + worker.pid() + ")", reports.dir(), e.toString());
            }
        });
    }
}
