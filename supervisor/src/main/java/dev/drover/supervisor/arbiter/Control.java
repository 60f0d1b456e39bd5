package dev.drover.supervisor.arbiter;

import dev.drover.link.LinkMessage;
import dev.drover.supervisor.control.Json;
import dev.drover.supervisor.leaks.LeakReports;
import dev.drover.supervisor.os.Logs;
import dev.drover.supervisor.policy.RecycleReason;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out {@link Command}s, from signals and from `drover ctl`, on the arbiter thread. Every command answers
 * with what it did ({@code {"ok": "..."}}) or why it did nothing ({@code {"error": "..."}}); status answers with
 * the status document.
 */
final class Control {

    private static final Logger log = LoggerFactory.getLogger(Control.class);

    /** A command that was refused; its message says why. */
    static final class Refused extends Exception {
        /** Whether the refusal has been logged already (a signal's refusal is logged otherwise). */
        final boolean logged;

        Refused(String message) {
            this(message, false);
        }

        Refused(String message, boolean logged) {
            super(message);
            this.logged = logged;
        }
    }

    /**
     * The longest `drover ctl reload` waits for the outcome before it answers that it is pending: boot-timeout and
     * a margin, but inside the control socket's reply timeout (60 s).
     */
    static final Duration RELOAD_WAIT_MAX = Duration.ofSeconds(50);
    static final Duration RELOAD_WAIT_MARGIN = Duration.ofSeconds(10);

    /** How old a PSS/USS reading `drover ctl status` accepts. */
    static final long STATUS_ROLLUP_MAX_AGE_MS = 1000;

    private final Workers workers;
    private final Generations generations;
    private final MemoryWatch memory;
    private final Leaks leaks;
    private final Shutdown shutdown;
    private final LongSupplier clock;
    private final long startedAt;
    private Upgrade upgrade;
    private java.util.function.Supplier<Map<String, Object>> upgradeStatus = () -> Map.of("upgrades", 0, "phase", "none");

    Control(Workers workers, Generations generations, MemoryWatch memory, Leaks leaks, Shutdown shutdown,
            LongSupplier clock) {
        this.workers = workers;
        this.generations = generations;
        this.memory = memory;
        this.leaks = leaks;
        this.shutdown = shutdown;
        this.clock = clock;
        this.startedAt = clock.getAsLong();
    }

    /** How `upgrade` is carried out, and what status says about upgrades. */
    void upgrades(Upgrade upgrade, java.util.function.Supplier<Map<String, Object>> status) {
        this.upgrade = upgrade;
        this.upgradeStatus = status;
    }

    /** A snapshot or heap dump a worker is writing, and the ctl client waiting for it. */
    private record Pending(WorkerHandle worker, String kind, Path file, CompletableFuture<String> reply) {
    }

    /** By the file the worker was told to write. */
    private final Map<String, Pending> pending = new HashMap<>();

    /**
     * A `drover ctl` line; completes {@code reply} with the JSON answer: at once, or (snapshot, heapdump) when the
     * worker has written its file.
     */
    void answer(String line, CompletableFuture<String> reply) {
        Command.Parsed parsed;
        try {
            parsed = Command.parse(line);
        } catch (IllegalArgumentException e) {
            reply.complete(Json.write(Map.of("error", e.getMessage())));
            return;
        }
        try {
            switch (parsed.command()) {
                case STATUS -> reply.complete(Json.write(status()));
                // Reading and parsing the reports takes milliseconds: on the thread that writes them, not here.
                case LEAKS -> leaks.read(settings(), reply, reports -> Json.write(Map.of("leaks", reports.list(),
                        "dir", reports.dir().toString())));
                case LEAK -> leaks.read(settings(), reply, reports -> leak(reports, parsed.text()));
                case SNAPSHOT, HEAPDUMP -> snapshot(parsed, reply);
                case RELOAD -> reload(line, reply);
                case UPGRADE -> upgrade(line, reply);
                default -> reply.complete(Json.write(Map.of("ok",
                        execute(parsed.command(), parsed.argument(), "drover ctl " + line.trim()))));
            }
        } catch (Refused e) {
            reply.complete(Json.write(Map.of("error", e.getMessage())));
        } catch (RuntimeException e) {
            // A command must never take the master down: answer, log, and go on supervising.
            log.error("drover ctl {}: failed", line, e);
            reply.complete(Json.write(Map.of("error", "the master could not carry out \"" + line + "\": " + e)));
        }
    }

    /** Upgrades in place, when the master was given how ({@link #upgrades}); the answer comes from the check. */
    private void upgrade(String line, CompletableFuture<String> reply) throws Refused {
        if (upgrade == null) {
            throw new Refused("upgrade: this master cannot upgrade in place (it was not started by `drover`)");
        }
        upgrade.start("drover ctl " + line.trim(), reply);
    }

    /** Starts the reload; the answer waits for its outcome ({@link Generations#awaitOutcome}). */
    private void reload(String line, CompletableFuture<String> reply) throws Refused {
        generations().reload("drover ctl " + line.trim());
        Duration wait = generations().current().settings().bootTimeout().plus(RELOAD_WAIT_MARGIN);
        if (wait.compareTo(RELOAD_WAIT_MAX) > 0) {
            wait = RELOAD_WAIT_MAX;
        }
        generations().awaitOutcome(reply, clock.getAsLong() + wait.toNanos());
    }

    private static String leak(LeakReports reports, String id) {
        Optional<String> text = reports.text(id);
        Optional<com.typesafe.config.Config> json = reports.json(id);
        if (text.isEmpty() || json.isEmpty()) {
            return Json.write(Map.of("error", "no leak report " + id + " in " + reports.dir()
                    + " (expected: an ID from `drover ctl leaks`)"));
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("text", text.get());
        answer.put("report", new Json.Raw(json.get().root().render(com.typesafe.config.ConfigRenderOptions.concise())));
        return Json.write(answer);
    }

    /** The worker writes the file; {@link #onSnapshotDone} answers. */
    private void snapshot(Command.Parsed parsed, CompletableFuture<String> reply) throws Refused {
        WorkerHandle w = workers.all().stream()
                .filter(x -> x.id() == parsed.argument() && x.is(WorkerState.SERVING) && x.link() != null)
                .findFirst().orElseThrow(() -> new Refused("no serving worker " + parsed.argument()
                        + " (expected: an ID from `drover ctl status` whose state is serving)"));
        boolean heapDump = parsed.command() == Command.HEAPDUMP;
        Path file;
        if (heapDump) {
            file = Path.of(parsed.text());
            if (!file.isAbsolute() || !parsed.text().endsWith(".hprof") || java.nio.file.Files.exists(file)) {
                throw new Refused("heapdump " + parsed.argument() + " " + parsed.text()
                        + ": expected an absolute path ending in .hprof where no file exists yet");
            }
        } else {
            file = workers.runtimeDir().resolve("snapshot-" + w.pid() + "-" + System.nanoTime() + ".json");
        }
        if (!LinkMessage.isToken(file.toString())) {
            throw new Refused(file + ": expected a path of letters, digits and _.:/+- only");
        }
        String named = heapDump ? file.toString() : workers.seenByWorker(file).toString();
        pending.put(named, new Pending(w, heapDump ? "heapdump" : "snapshot", file, reply));
        w.link().send(LinkMessage.of(LinkMessage.Type.SNAPSHOT).put("kind", heapDump ? "heapdump" : "snapshot")
                .put("path", named).build());
        log.info("{}: {} of {} requested ({})", "drover ctl", heapDump ? "heap dump" : "snapshot", w, file);
    }

    /** SNAPSHOT_DONE from a worker. */
    void onSnapshotDone(WorkerHandle w, LinkMessage message) {
        Pending p = pending.remove(message.text("path"));
        if (p == null || p.worker() != w) {
            log.warn("{} sent SNAPSHOT_DONE for {}, which nobody asked it for; ignored", w, message.text("path"));
            return;
        }
        if (message.number("ok") != 1) {
            p.reply().complete(Json.write(Map.of("error", w + " could not write its " + p.kind() + " to " + p.file()
                    + " (its log says why)")));
        } else if (p.kind().equals("heapdump")) {
            log.info("{} wrote a heap dump to {}", w, p.file());
            p.reply().complete(Json.write(Map.of("ok", w + " wrote a heap dump to " + p.file())));
        } else {
            try {
                String json = dev.drover.supervisor.os.WorkerDirectory.read(p.file());
                java.nio.file.Files.deleteIfExists(p.file());
                Map<String, Object> answer = new LinkedHashMap<>();
                answer.put("worker", Map.of("id", w.id(), "pid", w.pid(), "generation", w.generation()));
                answer.put("snapshot", new Json.Raw(json.trim()));
                p.reply().complete(Json.write(answer));
            } catch (IOException e) {
                p.reply().complete(Json.write(Map.of("error", "cannot read " + p.file() + ": " + e.getMessage())));
            }
        }
    }

    /** A worker exited: whoever waited for its snapshot gets an error now, not a timeout. */
    void onWorkerGone(WorkerHandle w) {
        pending.values().removeIf(p -> {
            if (p.worker() != w) {
                return false;
            }
            p.reply().complete(Json.write(Map.of("error", w + " exited before it wrote its " + p.kind())));
            return true;
        });
    }

    /** A signal: the same command as its ctl form; the outcome goes to the log. */
    void signal(String name) {
        Command command = Command.forSignal(name).orElse(null);
        if (command == null) {
            log.warn("SIG{} received: not a command; ignored", name);
            return;
        }
        try {
            execute(command, -1, "SIG" + name);
        } catch (Refused e) {
            if (!e.logged) {
                log.warn("SIG{} ({}): {}", name, command.usage(), e.getMessage());
            }
        }
    }

    private String execute(Command command, int argument, String source) throws Refused {
        return switch (command) {
            case RELOAD -> generations().reload(source);
            case STOP -> shutdown.stop(true, source);
            case STOP_QUICK -> shutdown.stop(false, source);
            case INCR -> generations().scale(generations().targetWorkers() + 1, source);
            case DECR -> generations().scale(generations().targetWorkers() - 1, source);
            case SCALE -> generations().scale(argument, source);
            case RECYCLE -> generations().recycle(argument, source);
            case REOPEN_LOGS -> reopenLogs(source);
            case PAUSE -> generations().pause(source);
            case STATUS, LEAKS, LEAK, SNAPSHOT, HEAPDUMP, HEALTH, UPGRADE ->
                    throw new IllegalStateException(command.usage() + " is answered, not executed");
        };
    }

    private Generations generations() {
        return generations;
    }

    private dev.drover.supervisor.config.Settings settings() {
        return generations.current().settings();
    }

    private static String reopenLogs(String source) throws Refused {
        int reopened;
        try {
            reopened = Logs.reopen();
        } catch (Logs.Unusable e) {
            String refused = "cannot reopen the log file: " + e.getMessage() + "; logging goes on into the file that "
                    + "was open (wherever it was moved to). Fix the path (drover.log-file) and reopen again";
            log.error("{}: {}", source, refused);
            throw new Refused(refused, true);
        }
        String done = reopened == 0 ? "no log file to reopen (logging to stdout)" : "reopened the log file";
        log.info("{}: {}", source, done);
        return done;
    }

    private Map<String, Object> status() {
        long now = clock.getAsLong();
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("pid", ProcessHandle.current().pid());
        status.put("generation", generations.current().number());
        status.put("workers_wanted", generations().targetWorkers());
        status.put("spare_workers", generations().current().settings().recycle().spareWorkers());
        status.put("standby_jvms", generations().current().settings().recycle().standbyJvms());
        status.put("paused", generations().paused());
        status.put("reload", generations().reloadPhase());
        status.put("reload_surge", generations().current().settings().recycle().reloadSurgeLabel());
        status.put("last_reload", generations().lastReload());
        status.put("uptime_seconds", TimeUnit.NANOSECONDS.toSeconds(now - startedAt));
        status.put("upgrade", upgradeStatus.get());
        Map<String, Object> recycles = new LinkedHashMap<>();
        for (RecycleReason reason : RecycleReason.values()) {
            recycles.put(reason.label(), workers.recycles(reason));
        }
        status.put("recycles", recycles);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (WorkerHandle w : workers.all()) {
            // A status reader wants today's PSS, not the one from the last 10-second period: ~1-2 ms per worker.
            memory.refreshRollup(w, now, STATUS_ROLLUP_MAX_AGE_MS);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", w.id());
            row.put("pid", w.pid());
            row.put("generation", w.generation());
            row.put("state", w.state().label());
            row.put("requests", w.requests());
            row.put("request_limit", w.limits().requests());
            row.put("inflight", w.stats().inflight());
            row.put("request_stall_ms", w.stats().requestStallMs());
            row.put("rss_bytes", Math.max(0, w.rssBytes()));
            row.put("pss_bytes", Math.max(0, w.pssBytes()));
            row.put("uss_bytes", Math.max(0, w.ussBytes()));
            row.put("age_seconds", TimeUnit.NANOSECONDS.toSeconds(now - w.spawnedAt()));
            row.put("spare", w.isSpare());
            row.put("standby", w.standbyKey() != null);
            row.put("recycle_reason", w.recycleReason() == null ? "" : w.recycleReason().label());
            row.put("app", w.standbyKey() != null ? "(standby: no app yet)" : w.app().label());
            rows.add(row);
        }
        status.put("workers", rows);
        return status;
    }
}
