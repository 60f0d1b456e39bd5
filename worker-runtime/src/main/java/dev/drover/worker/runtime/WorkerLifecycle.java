package dev.drover.worker.runtime;

import dev.drover.link.ExitCodes;
import dev.drover.link.LinkMessage;
import dev.drover.link.LinkProtocolException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * The part of a worker's life that is the same for a native worker ({@link Worker}) and a foreign one
 * ({@link ForeignWorker}) once it is attached: READY, STATS every second (thinned while idle), the leak-evidence
 * baseline, DRAIN (with evidence for a memory recycle), SNAPSHOT, and leaving when the master is gone. How the worker
 * serves is behind {@link Serving}. Every method runs on the owner thread unless it says otherwise.
 */
final class WorkerLifecycle implements MasterLink.Listener {

    /** How often the worker reports STATS; the master's tick has the same period. */
    static final long STATS_INTERVAL_MS = 1000;
    /** An idle worker reports every this many STATS intervals (well inside the master's silence limit). */
    static final int IDLE_REPORT_EVERY = 2;
    /** How long a drained worker waits for its memory evidence to be written before it exits. */
    static final long EVIDENCE_TIMEOUT_MS = 20_000;
    /** The ceiling's deadline when the master's CEILING carries none that can be read. */
    static final long CEILING_DEFAULT_DEADLINE_MS = 1000;
    /** What a class histogram is guessed to take at a ceiling when no baseline measured it (0.2-0.5 s measured). */
    static final long UNMEASURED_HISTOGRAM_MS = 500;
    /** Kept free of a ceiling's deadline for the exit itself (app stop, JVM shutdown) before the master's SIGKILL. */
    static final long CEILING_EXIT_MARGIN_MS = 100;

    /** The one thread that owns the lifecycle state (OwnerLoop); a fake in tests. */
    interface Owner {
        /** Runs {@code task} on the owner thread, later. */
        void post(Runnable task);

        /** Runs {@code task} on the owner thread every {@code periodMs}. */
        void every(long periodMs, Runnable task);
    }

    /** As spawned; a standby JVM's is replaced at its ADOPT ({@link #adopt}). */
    private WorkerEnv env;
    /** A standby JVM's ADOPT, or null if it is told to stop first; completed on the owner thread. */
    private final CompletableFuture<LinkMessage> adoption = new CompletableFuture<>();
    /** The worker's own logger: its lines are a contract (the README lists them), and they name the worker. */
    private final LazyLogging.Log log;
    private final Owner owner;
    private final Consumer<LinkMessage> link;
    private final LongSupplier nanoTime;
    private final Runnable onFinished;
    private Serving serving;
    private boolean draining;
    private long lastTick;
    private long readyAt;
    private long pausedMs;
    private long lastReportedRequests = -1;
    private int quietTicks;
    private boolean baselineRequested;
    private CompletableFuture<Void> evidence;
    private MemoryReadings readings;
    private LeakEvidence leakEvidence;
    private ExecutorService evidenceThread;
    /** At the memory ceiling: the evidence is waited for until then (System.nanoTime), not EVIDENCE_TIMEOUT_MS. */
    private long evidenceDueNanos = -1;
    /** The parent's pid now (-1: unknown), to tell a master that is gone from one that only closed the link. */
    private LongSupplier parentPid = () -> -1;
    private boolean linkLost;
    private boolean ready;
    /** A spare's way to start accepting (returns on how many sockets), until PROMOTE runs it; null otherwise. */
    private IntSupplier promotion;

    /**
     * @param link sends a message to the master (the control link is made after this object: the link needs it as
     *     its listener)
     * @param onFinished runs once, on the owner thread, when the worker may exit: drained, or told to stop before
     *     it served
     */
    WorkerLifecycle(WorkerEnv env, LazyLogging.Log log, Owner owner, Consumer<LinkMessage> link,
                    LongSupplier nanoTime, Runnable onFinished) {
        this.env = env;
        this.log = log;
        this.owner = owner;
        this.link = link;
        this.nanoTime = nanoTime;
        this.onFinished = onFinished;
    }

    /** Whether a drain has begun; a worker that is still booting then never starts serving. */
    boolean draining() {
        return draining;
    }

    /** Requests served so far, for the last log line. */
    long requests() {
        return serving == null ? 0 : serving.requests();
    }

    /** Call before the worker accepts its first connection; from then on a drain goes through {@code serving}. */
    void serveWith(Serving serving) {
        this.serving = serving;
        if (env.maxRequests() > 0) {
            // Tell the master at once, not at the next STATS: its replacement starts booting now.
            serving.notifyAtRequest(env.maxRequests(), () -> owner.post(this::reportStats));
        }
    }

    /** Reports READY and starts the STATS tick. */
    void ready(long bootMs) {
        link.accept(LinkMessage.of(LinkMessage.Type.READY).put("boot_ms", bootMs).build());
        lastTick = nanoTime.getAsLong();
        readyAt = lastTick;
        ready = true;
        owner.every(STATS_INTERVAL_MS, this::tick);
    }

    /**
     * A spare: READY and reporting STATS like any worker, but it accepts only once the master's PROMOTE runs
     * {@code accept} (on the owner thread), and a drain before that simply ends it. Call after serveWith.
     */
    void readyAsSpare(long bootMs, IntSupplier accept) {
        promotion = accept;
        ready(bootMs);
        log.info("spare: ready, not accepting (main() to ready took {} ms); waiting for the master's PROMOTE", bootMs);
    }

    /** A standby JVM's wait: the master's ADOPT, or null if a drain (SIGTERM, the master's DRAIN) came first. */
    CompletableFuture<LinkMessage> adoption() {
        return adoption;
    }

    @Override
    public void onAdopt(LinkMessage message) {
        if (!env.standby() || adoption.isDone()) {
            log.warn("ignoring ADOPT: this worker is {}", env.standby() ? "adopted or stopping already" : "no standby");
            return;
        }
        adoption.complete(message);
    }

    /** The standby's main thread, before the app starts: from now on it is the worker {@code adopted} names. */
    void adopt(WorkerEnv adopted) {
        owner.post(() -> env = adopted);
    }

    @Override
    public void onPromote(LinkMessage message) {
        if (promotion == null || draining) {
            log.warn("ignoring PROMOTE: this worker is {}", draining ? "draining" : "no spare waiting to be promoted");
            return;
        }
        IntSupplier accept = promotion;
        promotion = null;
        int sockets = accept.getAsInt();
        link.accept(LinkMessage.of(LinkMessage.Type.PROMOTED).put("sockets", sockets).build());
        log.info("promoted: accepting on {} socket(s)", sockets);
    }

    /**
     * Runs every STATS_INTERVAL_MS. Its own lateness is time the whole JVM did not run (a GC pause, CPU starvation,
     * SIGSTOP): that part of an event loop's stall is not the loop's fault.
     */
    void tick() {
        if (linkLost && !draining) {
            return; // nobody reads STATS any more; the requests are still served
        }
        long now = nanoTime.getAsLong();
        pausedMs = Math.max(0, TimeUnit.NANOSECONDS.toMillis(now - lastTick) - STATS_INTERVAL_MS);
        lastTick = now;
        // An idle worker (no request since its last STATS, none in flight, its loops checking in) reports every
        // IDLE_REPORT_EVERY ticks only: with many idle workers, reading STATS was most of the master's CPU.
        boolean idle = serving.requests() == lastReportedRequests && serving.inflight() == 0 && !draining
                && serving.loopStallMillis() < 2 * LoopHeartbeats.BEAT_MS;
        if (!idle || ++quietTicks >= IDLE_REPORT_EVERY) {
            quietTicks = 0;
            reportStats();
        }
        if (env.evidenceBaselineMs() > 0 && !baselineRequested && !draining
                && now - readyAt >= TimeUnit.MILLISECONDS.toNanos(env.evidenceBaselineMs())) {
            baselineRequested = true; // once warm: what a leak report compares the end with
            takeBaseline();
        }
    }

    private void takeBaseline() {
        LeakEvidence leaks = leakEvidence();
        evidenceThread().execute(() -> {
            try {
                leaks.takeBaseline();
                log.info("leak evidence: baseline class histogram taken, {} s after READY",
                        env.evidenceBaselineMs() / 1000.0);
            } catch (Exception e) {
                log.warn("leak evidence: cannot take the baseline class histogram: {}", e.toString());
            }
        });
    }

    private void reportStats() {
        lastReportedRequests = serving.requests();
        Runtime rt = Runtime.getRuntime();
        MemoryReadings.Reading memory = readings().read();
        LinkMessage.Builder stats = LinkMessage.of(LinkMessage.Type.STATS)
                .put("requests", lastReportedRequests)
                .put("inflight", serving.inflight())
                .put("connections", Math.max(0, serving.connections()))
                .put("loop_stall_ms", Math.max(0, serving.loopStallMillis() - pausedMs))
                .put("gc_ms", gcMillis())
                .put("heap_used", rt.totalMemory() - rt.freeMemory())
                .put("draining", draining ? 1 : 0)
                .put("heap_live", memory.heapLive())
                .put("metaspace", memory.metaspace())
                .put("classes", memory.classes())
                .put("direct", memory.direct())
                .put("threads", memory.threads());
        long requestStall = serving.requestStallMillis();
        if (requestStall >= 0) {
            stats.put("request_stall_ms", requestStall);
        }
        if (serving.requestTimes() != null) {
            serving.requestTimes().addTo(stats);
        }
        link.accept(stats.build());
    }

    private MemoryReadings readings() {
        if (readings == null) {
            readings = new MemoryReadings();
        }
        return readings;
    }

    /** Created on the owner thread, used on the evidence thread only (handing it over orders the two). */
    private LeakEvidence leakEvidence() {
        if (leakEvidence == null) {
            leakEvidence = new LeakEvidence(readings());
        }
        return leakEvidence;
    }

    /** One thread for class histograms and dumps, in order: each is a full GC, never on the owner thread. */
    private ExecutorService evidenceThread() {
        if (evidenceThread == null) {
            evidenceThread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "drover-evidence");
                t.setDaemon(true);
                return t;
            });
        }
        return evidenceThread;
    }

    private static long gcMillis() {
        long total = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            total += Math.max(0, gc.getCollectionTime());
        }
        return total;
    }

    @Override
    public void onDrain(LinkMessage message) {
        String file = message.fields().get("evidence");
        String why = "the master asked: " + message.fields().getOrDefault("reason", "stop");
        if (file == null || serving == null || draining) {
            drain(why);
            return;
        }
        // Evidence for a memory recycle: what the heap holds against the baseline, before this JVM and its leak are
        // gone. The drain starts at once, with the listeners closed first: a leaking worker that went on serving its
        // keep-alive clients (or taking new connections) for as long as its histogram takes would only grow on, past
        // its hard limit under a fast leak (its replacement is READY and the siblings accept). The histogram's full
        // GC pauses the JVM meanwhile; an idle check that comes late after such a pause looks again after the event
        // loop has read what arrived (ConnectionTracker.closeWhenIdle), and the exit waits for the evidence.
        serving.stopAccepting(() -> { });
        List<InFlightRequest> inflight = serving.inflightRequests();
        LeakEvidence leaks = leakEvidence();
        evidence = CompletableFuture.runAsync(() -> writeEvidence(file, () -> leaks.write(Path.of(file), "recycle",
                inflight)), evidenceThread());
        drain(why);
    }

    /** Writes one version of the evidence file; a failure is logged, never thrown (the drain goes on without it). */
    private void writeEvidence(String file, EvidenceWrite write) {
        try {
            write.run();
        } catch (Exception e) {
            log.warn("leak evidence: cannot write {}: {}", file, e.toString());
        }
    }

    private interface EvidenceWrite {
        void run() throws Exception;
    }

    /** A CEILING whose deadline cannot be read still stops the worker: it is over its hard limit. */
    @Override
    public void onCeiling(LinkMessage message) {
        long deadlineMs;
        try {
            deadlineMs = message.number("deadline_ms", 1, "the time the master gives before SIGKILL, in ms");
        } catch (LinkProtocolException e) {
            log.warn("control link: {}; stopping at the memory ceiling as if the deadline were {} ms", e.getMessage(),
                    CEILING_DEFAULT_DEADLINE_MS);
            deadlineMs = CEILING_DEFAULT_DEADLINE_MS;
        }
        ceiling(deadlineMs, message.fields().get("evidence"));
    }

    /**
     * The hard memory limit: stop accepting at once (the listeners close first, before anything else), answer only
     * what is in flight or already arriving, with Connection: close, close idle connections after
     * ConnectionTracker.ceilingGraceMs(deadlineMs), and exit as soon as nothing is in flight; the master SIGKILLs at
     * {@code deadlineMs}. The evidence names the requests in flight; the class histogram (a full GC) is added only
     * if the deadline leaves time for it.
     */
    void ceiling(long deadlineMs, String file) {
        if (serving == null || draining) {
            drain("the memory ceiling"); // booting: nothing served, nothing lost; draining: already on its way out
            return;
        }
        long receivedAt = nanoTime.getAsLong();
        // The drain's first step closes the listeners; the short grace must be the drain's from its start (the
        // agent's drain keeps the grace it was started with).
        beginDrain("the memory ceiling", ConnectionTracker.ceilingGraceMs(deadlineMs));
        List<InFlightRequest> inflight = serving.inflightRequests();
        if (file != null) {
            evidence = ceilingEvidence(file, inflight, deadlineMs);
            evidenceDueNanos = receivedAt + TimeUnit.MILLISECONDS.toNanos(Math.max(0, deadlineMs - CEILING_EXIT_MARGIN_MS));
        }
        log.warn("at the memory ceiling: stopped accepting; {}; exiting once answered, at most {} ms before SIGKILL",
                inflight == null ? serving.inflight() + " request(s) in flight" : describe(inflight), deadlineMs);
    }

    private static String describe(List<InFlightRequest> inflight) {
        if (inflight.isEmpty()) {
            return "no request in flight";
        }
        return inflight.size() + " request(s) in flight, the oldest " + inflight.get(0).method() + " "
                + inflight.get(0).path() + " (" + inflight.get(0).ageMs() + " ms)";
    }

    /**
     * The requests in flight at once (a millisecond), then, if the deadline leaves time for one, the file again with
     * the class histogram.
     */
    private CompletableFuture<Void> ceilingEvidence(String file, List<InFlightRequest> inflight, long deadlineMs) {
        LeakEvidence leaks = leakEvidence();
        String skipped = histogramSkipped(leaks.baselineTookMs(), deadlineMs);
        return CompletableFuture.runAsync(() -> {
            writeEvidence(file, () -> leaks.writeWithoutHistogram(Path.of(file), "ceiling", inflight,
                    skipped != null ? skipped : "the worker exited before its class histogram was written"));
            if (skipped == null) {
                writeEvidence(file, () -> leaks.write(Path.of(file), "ceiling", inflight));
            }
        }, evidenceThread());
    }

    /**
     * Why the ceiling's histogram is skipped, or null if the deadline leaves time for it: twice what the baseline
     * took (the heap is bigger now), plus the exit's margin.
     */
    static String histogramSkipped(long baselineTookMs, long deadlineMs) {
        if (baselineTookMs < 0) {
            // A worker stopped young has none (a fast leak): a histogram of a few hundred MiB of heap is guessed.
            long needs = 2 * UNMEASURED_HISTOGRAM_MS + CEILING_EXIT_MARGIN_MS;
            return needs <= deadlineMs ? null : "skipped at the memory ceiling: no baseline histogram had been taken, "
                    + "so how long one takes was not known; one was guessed at " + UNMEASURED_HISTOGRAM_MS + " ms, and "
                    + "twice that plus the exit's " + CEILING_EXIT_MARGIN_MS + " ms is more than the deadline ("
                    + deadlineMs + " ms)";
        }
        long needs = 2 * baselineTookMs + CEILING_EXIT_MARGIN_MS;
        if (needs > deadlineMs) {
            return "skipped at the memory ceiling: it would need about " + needs + " ms (twice the baseline's "
                    + baselineTookMs + " ms, plus " + CEILING_EXIT_MARGIN_MS + " ms for the exit) and the deadline was "
                    + deadlineMs + " ms";
        }
        return null;
    }

    @Override
    public void onSnapshot(LinkMessage message) {
        String file = message.fields().get("path");
        boolean heapDump = "heapdump".equals(message.fields().get("kind"));
        LeakEvidence leaks = leakEvidence();
        evidenceThread().execute(() -> {
            boolean ok = false;
            try {
                if (heapDump) {
                    LeakEvidence.heapDump(Path.of(file));
                } else {
                    leaks.write(Path.of(file), "snapshot");
                }
                ok = true;
            } catch (Exception | LinkageError e) {
                log.warn("{} to {} failed: {}", heapDump ? "heap dump" : "snapshot", file, e.toString());
            }
            int written = ok ? 1 : 0;
            owner.post(() -> link.accept(LinkMessage.of(LinkMessage.Type.SNAPSHOT_DONE).put("path", file)
                    .put("ok", written).build()));
        });
    }

    /** Where the parent's pid is read (ParentWatch); any thread, before the link can close. */
    void watchParent(LongSupplier parentPid) {
        this.parentPid = parentPid;
    }

    /**
     * The link closed. A serving worker whose parent is still the master's pid serves on: the master is being
     * replaced in place (`drover ctl upgrade`: the same pid, a new program), and the new one stops this worker with
     * SIGTERM (a drain) once its own workers are ready; a master that really is gone re-parents the worker, which
     * ParentWatch sees. Before READY the worker leaves: nothing depends on it yet, and nobody may know it.
     */
    @Override
    public void onMasterGone() {
        long parent = parentPid.getAsLong();
        if (!ready || parent != env.masterPid()) {
            masterGone("control link closed");
            return;
        }
        if (!linkLost) {
            linkLost = true;
            log.info("the control link closed, but the master (pid {}) is still this worker's parent: serving on "
                    + "until SIGTERM (the master is being upgraded in place)", env.masterPid());
        }
    }

    /**
     * Never outlive the master: nobody would supervise or stop this JVM. Called on the parent watch's thread too,
     * not posted: it touches no state, and a halt must not wait behind anything.
     */
    void masterGone(String evidence) {
        System.err.println("drover worker " + env.workerId() + ": the master (pid " + env.masterPid() + ") is gone ("
                + evidence + "); exiting");
        Runtime.getRuntime().halt(ExitCodes.OK);
    }

    /** Stop accepting, finish what is in flight, then finish. A second call does nothing. */
    void drain(String why) {
        beginDrain(why, ConnectionTracker.IDLE_CLOSE_GRACE_MS);
    }

    private void beginDrain(String why, long idleGraceMs) {
        if (draining) {
            return;
        }
        draining = true;
        if (env.standby() && !adoption.isDone()) {
            log.info("draining ({}) as a standby JVM with no app: exiting", why);
            adoption.complete(null);
            onFinished.run();
            return;
        }
        if (promotion != null) {
            promotion = null;
            log.info("draining ({}) as a spare that never accepted: exiting", why);
            onFinished.run();
            return;
        }
        if (serving == null) {
            log.info("draining ({}) before serving: exiting", why);
            onFinished.run();
            return;
        }
        int connections = serving.connections();
        log.info("draining ({}): {} request(s) in flight{}", why, serving.inflight(),
                connections < 0 ? "" : " on " + connections + " connection(s)");
        serving.drain(idleGraceMs, () -> owner.post(this::drained));
    }

    /** Once no connection is left: finish when the leak evidence is written, or too late. */
    private void drained() {
        reportStats(); // the last counts: the master keeps them for this worker's slot (/metrics)
        if (evidence == null || evidence.isDone()) {
            onFinished.run();
            return;
        }
        long waitMs = evidenceDueNanos == -1 ? EVIDENCE_TIMEOUT_MS
                : Math.max(0, TimeUnit.NANOSECONDS.toMillis(evidenceDueNanos - nanoTime.getAsLong()));
        evidence.copy().orTimeout(waitMs, TimeUnit.MILLISECONDS).whenComplete((ok, late) -> owner.post(() -> {
            if (late != null) {
                log.warn("leak evidence not written within {} ms; exiting without it", waitMs);
            }
            onFinished.run();
        }));
    }
}
