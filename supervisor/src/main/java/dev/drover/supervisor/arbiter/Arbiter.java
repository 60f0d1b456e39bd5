package dev.drover.supervisor.arbiter;

import dev.drover.link.ExitCodes;
import dev.drover.link.LinkMessage;
import dev.drover.supervisor.config.Settings;
import dev.drover.supervisor.control.WorkerLinkServer;
import dev.drover.supervisor.os.ExitStatus;
import dev.drover.supervisor.os.LibC;
import dev.drover.supervisor.os.Listener;
import dev.drover.supervisor.os.WorkerOutput;
import dev.drover.supervisor.os.WorkerSpawner;
import dev.drover.supervisor.policy.RestartPolicy;
import io.netty.channel.Channel;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's loop, and the only owner of its state. Everything arrives as an {@link Event}; after each event
 * and on every tick the loop runs its steps: police deadlines, read memory, keep the worker count, finish a stop.
 */
public final class Arbiter {

    private static final Logger log = LoggerFactory.getLogger(Arbiter.class);

    /** The loop's period for deadlines and memory readings; workers report STATS at the same rate. */
    static final long TICK_MS = 1000;
    /** PSS (smaps_rollup) costs milliseconds, so each worker's is read at most this often. */
    static final long PSS_PERIOD_MS = 10_000;
    /** On a quick stop (INT), how long workers get to exit before SIGKILL. */
    static final Duration QUICK_STOP_TIMEOUT = Duration.ofSeconds(2);

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final Settings settings;
    private final List<Listener> listeners;
    private final WorkerSpawner spawner;
    private final LongSupplier clock;
    private final RestartPolicy restarts = new RestartPolicy();
    private final SecureRandom random = new SecureRandom();
    private final List<WorkerHandle> workers = new ArrayList<>();
    private final Map<Channel, WorkerHandle> byLink = new HashMap<>();
    private final long startedAt;
    private final int generation = 1;
    private final Control control = new Control(this);

    private long nextTick;
    private long respawnNotBefore;
    private boolean stopping;
    private long stopDeadline;
    private int exitCode = ExitCodes.OK;

    public Arbiter(Settings settings, List<Listener> listeners, WorkerSpawner spawner, LongSupplier clock) {
        this.settings = settings;
        this.listeners = listeners;
        this.spawner = spawner;
        this.clock = clock;
        this.startedAt = clock.getAsLong();
    }

    /** Where signal handlers, Netty handlers and reader threads post; it never blocks. */
    public void post(Event event) {
        events.offer(event);
    }

    /** Runs until the master stops; returns the master's exit code. */
    public int run() throws InterruptedException {
        nextTick = clock.getAsLong();
        while (true) {
            long wait = Math.max(0, TimeUnit.NANOSECONDS.toMillis(nextTick - clock.getAsLong()));
            Event event = events.poll(wait, TimeUnit.MILLISECONDS);
            if (event != null) {
                handle(event);
            }
            if (clock.getAsLong() - nextTick >= 0) {
                tick();
                nextTick += TimeUnit.MILLISECONDS.toNanos(TICK_MS);
            }
            if (stopping && workers.isEmpty()) {
                return exitCode;
            }
            keepWorkerCount();
        }
    }

    private void handle(Event event) {
        // Java 17 has no pattern matching for switch; this chain is the dispatch table.
        if (event instanceof Event.SignalReceived s) {
            onSignal(s.name());
        } else if (event instanceof Event.WorkerExited e) {
            onExit(e.worker(), e.status());
        } else if (event instanceof Event.LinkHello h) {
            onHello(h);
        } else if (event instanceof Event.LinkReceived r) {
            onLinkMessage(r.channel(), r.message());
        } else if (event instanceof Event.LinkFailed f) {
            onLinkFailed(f.channel(), f.problem());
        } else if (event instanceof Event.ControlRequest c) {
            c.reply().complete(control.answer(c.command()));
        }
    }

    private void tick() {
        long now = clock.getAsLong();
        for (WorkerHandle w : workers) {
            readMemory(w, now);
            killIfOverdue(w, now);
        }
        if (stopping && now - stopDeadline >= 0) {
            workers.forEach(w -> kill(w, "did not stop in time"));
        }
    }

    // ---- signals and stopping ----------------------------------------------------------------------------------

    private void onSignal(String name) {
        switch (name) {
            case "TERM" -> beginStop(true, ExitCodes.OK, "SIGTERM");
            case "INT" -> beginStop(false, ExitCodes.OK, "SIGINT");
            default -> log.warn("SIG{} received: not supported by this version of Drover; ignored", name);
        }
    }

    /** Graceful: every worker drains within graceful-timeout. Quick: every worker gets INT and a short deadline. */
    void beginStop(boolean graceful, int code, String why) {
        if (stopping && graceful) {
            log.info("{}: already stopping", why);
            return;
        }
        stopping = true;
        exitCode = code;
        Duration timeout = graceful ? settings.gracefulTimeout() : QUICK_STOP_TIMEOUT;
        stopDeadline = clock.getAsLong() + timeout.toNanos();
        log.info("{}: {} stop of {} worker(s), at most {} ({})", why, graceful ? "graceful" : "quick", workers.size(),
                seconds(timeout), graceful ? "drover.graceful-timeout" : "quick stop");
        for (WorkerHandle w : workers) {
            if (graceful) {
                drain(w, timeout);
            } else {
                signal(w, LibC.SIGINT);
            }
        }
    }

    /** Asks a worker to stop accepting and finish its requests; SIGKILL follows at the deadline. */
    private void drain(WorkerHandle w, Duration timeout) {
        if (w.state == WorkerState.SERVING && w.link != null) {
            w.link.writeAndFlush(LinkMessage.of(LinkMessage.Type.DRAIN).build());
        } else if (w.state != WorkerState.DRAINING) {
            signal(w, LibC.SIGTERM); // booting: the worker's TERM handler drains (it has nothing in flight)
        }
        w.state = WorkerState.DRAINING;
        w.killAt = clock.getAsLong() + timeout.toNanos();
    }

    private void killIfOverdue(WorkerHandle w, long now) {
        if (w.killAt != -1 && now - w.killAt >= 0) {
            kill(w, "did not finish draining within " + seconds(settings.gracefulTimeout()) + " (drover.graceful-timeout)");
        }
    }

    private void kill(WorkerHandle w, String why) {
        if (!w.killed) {
            log.warn("{} {}; sending SIGKILL", w, why);
            w.killed = true;
            w.process.destroyForcibly();
        }
    }

    private void signal(WorkerHandle w, int signal) {
        if (!LibC.kill(w.pid, signal)) {
            log.debug("{}: signal {} not delivered (already gone)", w, signal);
        }
    }

    // ---- keeping the count ------------------------------------------------------------------------------------

    private void keepWorkerCount() {
        if (stopping || clock.getAsLong() - respawnNotBefore < 0) {
            return;
        }
        for (int id = 1; id <= settings.workers(); id++) {
            if (!hasLiveWorker(id)) {
                spawn(id);
            }
        }
    }

    private boolean hasLiveWorker(int id) {
        for (WorkerHandle w : workers) {
            if (w.id == id && w.live()) {
                return true;
            }
        }
        return false;
    }

    private void spawn(int id) {
        String secret = HexFormat.of().formatHex(randomBytes());
        Process process;
        try {
            process = spawner.spawn(new WorkerSpawner.Spec(id, generation, secret), settings);
        } catch (IOException e) {
            log.error("cannot spawn worker {}: {}; retrying in {}", id, e.getMessage(), seconds(RestartPolicy.MAX_DELAY));
            respawnNotBefore = clock.getAsLong() + RestartPolicy.MAX_DELAY.toNanos();
            return;
        }
        WorkerHandle w = new WorkerHandle(id, generation, process, secret, clock.getAsLong());
        w.output = WorkerOutput.follow(process, w.toString(), status -> post(new Event.WorkerExited(w, status)));
        workers.add(w);
        log.info("{} spawned", w);
    }

    private byte[] randomBytes() {
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        return bytes;
    }

    private void onExit(WorkerHandle w, int status) {
        workers.remove(w);
        if (w.link != null) {
            byLink.remove(w.link);
            w.link.close();
        }
        Duration age = Duration.ofNanos(clock.getAsLong() - w.spawnedAt);
        boolean planned = w.state == WorkerState.DRAINING;
        String how = ExitStatus.describe(status);
        if (planned) {
            log.info("{} stopped after draining ({}); served {} request(s) in {}", w, how, w.requests, seconds(age));
            return;
        }
        log.warn("{} died unexpectedly after {} as {}, {} request(s) served: {}", w, seconds(age), w.state.label(),
                w.requests, how);
        if (stopping) {
            return;
        }
        RestartPolicy.Verdict verdict = restarts.unplannedExit(w.state == WorkerState.SERVING, age, status,
                clock.getAsLong());
        if (verdict.haltMaster()) {
            log.error("{} failed to boot, and no worker has booted yet: stopping with exit code {}. Its last output:\n  {}",
                    w, verdict.exitCode(), String.join("\n  ", w.output.tail()));
            beginStop(false, verdict.exitCode(), "worker boot failure");
            return;
        }
        respawnNotBefore = verdict.respawnNotBefore();
        if (!restarts.delay().isZero()) {
            log.warn("workers keep dying young: next spawn in {}", seconds(restarts.delay()));
        }
    }

    // ---- control links ----------------------------------------------------------------------------------------

    private void onHello(Event.LinkHello hello) {
        WorkerHandle w = find(hello.hello());
        if (w == null || w.pid != hello.peerPid() || w.link != null) {
            log.warn("rejected a control-link connection from pid {}: {} (expected: a worker this master spawned, "
                    + "with its id and secret, connecting once)", hello.peerPid(), hello.hello().fields().get("id"));
            hello.channel().close();
            return;
        }
        w.link = hello.channel();
        byLink.put(w.link, w);
        WorkerLinkServer.sendListeningSockets(w.link, listeners.stream().map(Listener::fd).toList());
    }

    private WorkerHandle find(LinkMessage hello) {
        String id = hello.fields().get("id");
        String secret = hello.fields().get("secret");
        for (WorkerHandle w : workers) {
            if (Integer.toString(w.id).equals(id) && w.secret.equals(secret)) {
                return w;
            }
        }
        return null;
    }

    private void onLinkMessage(Channel channel, LinkMessage message) {
        WorkerHandle w = byLink.get(channel);
        if (w == null) {
            log.warn("control-link message before HELLO, closing that link: {}", message);
            channel.close();
            return;
        }
        try {
            switch (message.type()) {
                case READY -> onReady(w, message);
                case STATS -> onStats(w, message);
                default -> log.warn("{} sent {}, which only the master sends; ignored", w, message);
            }
        } catch (RuntimeException e) {
            log.warn("{} sent a malformed control-link message: {}; ignored", w, e.getMessage());
        }
    }

    private void onReady(WorkerHandle w, LinkMessage message) {
        long bootMs = message.number("boot_ms");
        w.readyAt = clock.getAsLong();
        if (w.state == WorkerState.BOOTING) {
            w.state = WorkerState.SERVING;
        }
        restarts.workerReady();
        log.info("{} ready in {} ms (spawn to READY; {} ms of it in the worker's main)", w,
                TimeUnit.NANOSECONDS.toMillis(w.readyAt - w.spawnedAt), bootMs);
    }

    private void onStats(WorkerHandle w, LinkMessage m) {
        w.requests = m.number("requests");
        w.inflight = m.number("inflight");
        w.connections = m.number("connections");
        w.loopStallMs = m.number("loop_stall_ms");
        w.gcMs = m.number("gc_ms");
        w.heapUsed = m.number("heap_used");
    }

    private void onLinkFailed(Channel channel, String problem) {
        WorkerHandle w = byLink.get(channel);
        if (w == null) {
            log.debug("control link without a worker: {}", problem);
            channel.close();
        } else if (!problem.equals("control link closed")) {
            log.warn("{}: control link: {}; ignored", w, problem);
        }
    }

    // ---- readings and status ----------------------------------------------------------------------------------

    private void readMemory(WorkerHandle w, long now) {
        w.rssBytes = dev.drover.supervisor.os.ProcMemory.rssBytes(w.pid);
        if (now - w.pssReadAt >= TimeUnit.MILLISECONDS.toNanos(PSS_PERIOD_MS) || w.pssReadAt == Long.MIN_VALUE) {
            w.pssBytes = dev.drover.supervisor.os.ProcMemory.pssBytes(w.pid);
            w.pssReadAt = now;
        }
    }

    List<WorkerHandle> workers() {
        return workers;
    }

    Settings settings() {
        return settings;
    }

    int generation() {
        return generation;
    }

    long now() {
        return clock.getAsLong();
    }

    long startedAt() {
        return startedAt;
    }

    /** Durations in log lines read as HOCON writes them: 30s, 0.5s. */
    static String seconds(Duration d) {
        double s = d.toMillis() / 1000.0;
        return s == Math.rint(s) ? (long) s + "s" : String.format("%.1fs", s);
    }
}
