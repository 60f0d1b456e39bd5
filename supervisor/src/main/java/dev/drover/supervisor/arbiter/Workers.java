package dev.drover.supervisor.arbiter;

import dev.drover.link.LinkMessage;
import dev.drover.supervisor.control.WorkerLink;
import dev.drover.supervisor.os.Spawner;
import dev.drover.supervisor.os.WorkerProcess;
import dev.drover.supervisor.os.WorkerSpawner;
import dev.drover.supervisor.policy.RecyclePolicy;
import dev.drover.supervisor.policy.RecycleReason;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker table, and the only code that spawns, signals and forgets workers: the arbiter and its helpers decide,
 * this carries it out. It also keeps the recycle counts per reason. Run on the arbiter thread.
 */
final class Workers {

    private static final Logger log = LoggerFactory.getLogger(Workers.class);
    /** Between SIGQUIT (the JVM prints a thread dump) and SIGKILL: time for the dump to be written. */
    static final Duration DUMP_TO_KILL = Duration.ofSeconds(1);
    /**
     * A worker under the memory ceiling whose reading passes this multiple of the hard limit is killed at once: its
     * deadline was an estimate of the headroom, and the headroom is gone. If the reading that found it over the
     * limit was already past that (the reading came late), it may still grow by (CEILING_OVERSHOOT - 1) x the hard
     * limit from there: killing it at the next reading, whatever it does, would make its deadline meaningless.
     */
    static final double CEILING_OVERSHOOT = 1.05;

    private final Spawner spawner;
    private final Path runtimeDir;
    private final LongSupplier clock;
    private final Respawns respawns;
    private final IntFunction<Cds.Launch> launches;
    private final Consumer<Event> post;
    private final SecureRandom random = new SecureRandom();
    private final List<WorkerHandle> table = new ArrayList<>();
    private final Map<WorkerLink, WorkerHandle> byLink = new HashMap<>();
    private final Map<RecycleReason, Long> recycles = new EnumMap<>(RecycleReason.class);
    /** The last worker of each slot that exited (lastInSlot). */
    private final Map<Integer, WorkerHandle> gone = new HashMap<>();
    /** New workers are spawned with it; its settings give the drain deadline. */
    private Generation current;

    /**
     * {@code launches}: the AppCDS archive and jar for a generation's workers (Cds); {@code post}: where a worker's
     * exit is reported, as an event.
     */
    Workers(Spawner spawner, Path runtimeDir, LongSupplier clock, Respawns respawns,
            IntFunction<Cds.Launch> launches, Consumer<Event> post) {
        this.spawner = spawner;
        this.runtimeDir = runtimeDir;
        this.clock = clock;
        this.respawns = respawns;
        this.launches = launches;
        this.post = post;
    }

    /** The generation new workers get (at start, at a reload, when a reload is abandoned). */
    void spawnFrom(Generation generation) {
        current = generation;
    }

    Duration gracefulTimeout() {
        return current.settings().gracefulTimeout();
    }

    /** drover.shutdown-delay of the current generation (Shutdown). */
    Duration shutdownDelay() {
        return current.settings().container().shutdownDelay();
    }

    /** The master's private runtime directory, where workers write evidence and snapshots. */
    Path runtimeDir() {
        return runtimeDir;
    }

    /** {@code file}, in the runtime directory, as a worker names it (another user's reaches it through an fd). */
    Path seenByWorker(Path file) {
        return spawner.seenByWorker(file);
    }

    /** {@code w} is READY: back to the serving CPU priority if it booted at a lower one. */
    void serving(WorkerHandle w) {
        spawner.serving(w.process(), current.settings());
    }

    // ---- the table ----------------------------------------------------------------------------------------------

    /** Every worker, in spawn order; read-only. */
    List<WorkerHandle> all() {
        return Collections.unmodifiableList(table);
    }

    boolean isEmpty() {
        return table.isEmpty();
    }

    int size() {
        return table.size();
    }

    boolean holdsSlot(int id) {
        return table.stream().anyMatch(w -> w.id() == id && w.state().holdsSlot());
    }

    /**
     * JVMs that count toward workers + spare-workers + max(max-surge, standby-jvms): booting, serving, spare and
     * standby ones (a draining or killed one is on its way out, as for max-surge).
     */
    long live() {
        return table.stream().filter(w -> w.is(WorkerState.BOOTING) || w.is(WorkerState.SERVING)
                || w.is(WorkerState.SPARE) || w.is(WorkerState.STANDBY)).count();
    }

    /** Spares of {@code generation}, booting or ready (not draining or killed). */
    long spares(int generation) {
        return table.stream().filter(w -> w.isSpare() && w.generation() == generation
                && (w.is(WorkerState.BOOTING) || w.is(WorkerState.SPARE))).count();
    }

    long readySpares(int generation) {
        return table.stream().filter(w -> w.is(WorkerState.SPARE) && w.generation() == generation).count();
    }

    /** The oldest READY spare of {@code generation}, or null: a spare of an older one never fills a newer's slot. */
    WorkerHandle readySpare(int generation) {
        return table.stream().filter(w -> w.is(WorkerState.SPARE) && w.generation() == generation).findFirst()
                .orElse(null);
    }

    /**
     * The worker that last held slot {@code id}: one killed and still there, else the last that exited; null if
     * none did. For the promotion's log line.
     */
    WorkerHandle lastInSlot(int id) {
        return table.stream().filter(w -> w.id() == id && w.is(WorkerState.KILLED)).findFirst()
                .orElse(gone.get(id));
    }

    boolean anyBooting() {
        return table.stream().anyMatch(w -> w.is(WorkerState.BOOTING));
    }

    WorkerHandle byLink(WorkerLink link) {
        return byLink.get(link);
    }

    /**
     * The worker a HELLO names, if its pid and secret match, it has no link yet and it says it inherited its socket
     * exactly when it was spawned with it on fd 0; it gets this link. Null otherwise.
     */
    WorkerHandle attach(WorkerLink link, String id, String secret, long peerPid, boolean inherited) {
        for (WorkerHandle w : table) {
            if (Integer.toString(w.id()).equals(id) && w.hasSecret(secret)) {
                if (w.pid() != peerPid || w.link() != null || w.app().inheritsSocket() != inherited) {
                    return null;
                }
                w.attach(link);
                byLink.put(link, w);
                return w;
            }
        }
        return null;
    }

    /** The worker exited: out of the table, its pairing undone, its link closed, its pidfd released. */
    void forget(WorkerHandle w) {
        table.remove(w);
        if (!w.isSpare()) {
            gone.put(w.id(), w);
        }
        w.unpair();
        if (w.link() != null) {
            byLink.remove(w.link());
            w.link().close();
        }
        w.process().release();
    }

    // ---- spawning -----------------------------------------------------------------------------------------------

    boolean mayRespawnNow() {
        return respawns.allowedNow();
    }

    /** Spawns a worker for slot {@code id}; null if it may not yet, or the JVM could not be started (logged). */
    WorkerHandle spawn(int id) {
        return spawn(id, false);
    }

    /** Spawns a spare of the current generation; null as for spawn. */
    WorkerHandle spawnSpare() {
        return spawn(0, true);
    }

    /**
     * Keeps {@code wanted} standby JVMs (drover.standby-jvms) of the current generation's JVM: stops those a spawn
     * of it could not adopt (a reload changed the JVM) or beyond the count, and spawns the missing ones under the
     * crash backoff while the JVMs stay within {@code maxJvms}. Only once every slot is held: workers first.
     */
    void keepStandbys(int wanted, boolean slotsHeld, long maxJvms) {
        if (wanted == 0 && table.stream().noneMatch(w -> w.is(WorkerState.STANDBY))) {
            return; // nothing to keep or stop: no need to work out the key (every turn of the arbiter comes here)
        }
        Optional<String> key = spawner.standbyKey(current.settings(), current.listeners());
        int kept = 0;
        for (WorkerHandle w : List.copyOf(table)) {
            if (!w.is(WorkerState.STANDBY)) {
                continue;
            }
            if (key.isPresent() && key.get().equals(w.standbyKey()) && kept < wanted) {
                kept++;
                continue;
            }
            log.info("{} stopped: {}", w, key.isPresent() && key.get().equals(w.standbyKey())
                    ? wanted + " standby JVM(s) wanted (drover.standby-jvms)"
                    : "generation " + current.number() + "'s workers run another JVM (its java, options, sockets or "
                    + "HTTP limits changed, or the app is a jar or main class)");
            drain(w, null);
        }
        if (key.isEmpty() || !slotsHeld) {
            return;
        }
        while (kept < wanted && live() < maxJvms && respawns.allowedNow()) {
            WorkerHandle w = spawnProcess(0, false, key);
            if (w == null) {
                return;
            }
            kept++;
        }
    }

    /** Said once, until a standby is adopted again: why standbys are not adopted. */
    private boolean toldUnadoptable;

    /** Whether the next spawn would adopt a standby JVM (and so start no JVM). */
    boolean standbyAdoptable() {
        return adoptableStandby() != null;
    }

    /** The oldest attached standby JVM a spawn of the current generation may adopt, or null. */
    private WorkerHandle adoptableStandby() {
        if (table.stream().noneMatch(w -> w.is(WorkerState.STANDBY))) {
            return null;
        }
        Optional<String> key = spawner.standbyKey(current.settings(), current.listeners());
        if (key.isEmpty()) {
            return null;
        }
        return table.stream().filter(w -> w.is(WorkerState.STANDBY) && w.link() != null
                && key.get().equals(w.standbyKey())).findFirst().orElse(null);
    }

    /**
     * A standby JVM becomes the worker in slot {@code id} (or a spare): ADOPT tells it which, and where its app is;
     * from here it boots like a spawned worker, less the JVM's own start. Null if the ADOPT cannot be told (then the
     * caller spawns).
     */
    private WorkerHandle adopt(WorkerHandle standby, int id, boolean spare) {
        Generation gen = current;
        RecyclePolicy.Limits limits = gen.recyclePolicy().draw(random);
        Optional<LinkMessage> adopt = spawner.adoption(new WorkerSpawner.Spec(id, gen.number(), "-", limits.requests(),
                gen.listeners(), Optional.empty(), Optional.empty(), spare), gen.settings());
        if (adopt.isEmpty()) {
            if (!toldUnadoptable) {
                toldUnadoptable = true;
                log.warn("standby JVMs cannot be adopted by generation {}: drover.classpath or the config file's path "
                        + "holds a character the control link does not carry (a space); its workers are spawned",
                        gen.number());
            }
            return null;
        }
        toldUnadoptable = false;
        long now = clock.getAsLong();
        Duration waited = Duration.ofNanos(now - standby.spawnedAt());
        String was = standby.toString();
        standby.adopt(id, gen.number(), limits, new WorkerHandle.App(gen.settings().appLabel(), false), spare, now);
        standby.process().rename(standby.toString());
        standby.link().send(adopt.get());
        log.info("{} spawned: {} adopted (booted {} ago, no JVM start)", standby, was, Arbiter.seconds(waited));
        return standby;
    }

    private WorkerHandle spawn(int id, boolean spare) {
        if (!respawns.allowedNow()) {
            return null;
        }
        WorkerHandle standby = adoptableStandby();
        if (standby != null) {
            WorkerHandle adopted = adopt(standby, id, spare);
            if (adopted != null) {
                return adopted;
            }
        }
        return spawnProcess(id, spare, Optional.empty());
    }

    /** Starts a JVM: the worker in slot {@code id}, a spare, or with {@code standbyKey} a standby JVM. */
    private WorkerHandle spawnProcess(int id, boolean spare, Optional<String> standbyKey) {
        Generation gen = current;
        String secret = HexFormat.of().formatHex(randomBytes());
        RecyclePolicy.Limits limits = gen.recyclePolicy().draw(random);
        boolean standby = standbyKey.isPresent();
        Cds.Launch launch = standby ? new Cds.Launch(Optional.empty(), Optional.empty()) : launches.apply(gen.number());
        WorkerProcess process;
        try {
            process = spawner.spawn(new WorkerSpawner.Spec(id, gen.number(), secret, limits.requests(),
                    gen.listeners(), launch.archive(), launch.runJar(), spare, standby), gen.settings());
        } catch (IOException e) {
            log.error("cannot spawn {}: {}; retrying in {}", standby ? "a standby JVM" : spare ? "a spare"
                    : "worker " + id, e.getMessage(),
                    Arbiter.seconds(dev.drover.supervisor.policy.RestartPolicy.MAX_DELAY));
            respawns.spawnFailed();
            return null;
        }
        WorkerHandle w = new WorkerHandle(id, gen.number(), gen.listeners(), process, secret, clock.getAsLong(), limits,
                launch.archive().isPresent(), new WorkerHandle.App(gen.settings().appLabel(), gen.settings().foreign()));
        if (spare) {
            w.bootAsSpare();
        }
        standbyKey.ifPresent(w::bootAsStandby);
        table.add(w);
        process.follow(w.toString(), status -> post.accept(new Event.WorkerExited(w, status)));
        log.info("{} spawned", w);
        return w;
    }

    /** Spawns the worker that takes {@code old}'s place (surge-first); null if none could be spawned now. */
    WorkerHandle spawnReplacement(WorkerHandle old) {
        WorkerHandle next = spawn(old.id());
        if (next != null) {
            old.pairWith(next);
        }
        return next;
    }

    /**
     * Promotes a READY spare into slot {@code slot} (PROMOTE: it accepts from now on); with {@code old}, a planned
     * recycle, it is {@code old}'s replacement, and its PROMOTED drains {@code old} (Recycler.onPromoted).
     */
    void promote(WorkerHandle spare, int slot, WorkerHandle old) {
        spare.promote(slot, clock.getAsLong());
        spare.process().rename(spare.toString());
        if (old != null) {
            old.pairWith(spare);
        }
        spare.link().send(LinkMessage.of(LinkMessage.Type.PROMOTE).build());
    }

    private byte[] randomBytes() {
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        return bytes;
    }

    // ---- stopping and killing -----------------------------------------------------------------------------------

    /**
     * Asks a worker to stop accepting and finish its requests, SIGKILL at graceful-timeout. A memory recycle also
     * asks for the worker's leak evidence (its class histogram against the baseline), for the leak report.
     */
    void drain(WorkerHandle w, RecycleReason reason) {
        if ((w.is(WorkerState.SERVING) || w.is(WorkerState.SPARE)) && w.link() != null) {
            LinkMessage.Builder drain = LinkMessage.of(LinkMessage.Type.DRAIN)
                    .put("reason", reason == null ? "stop" : reason.label());
            if (reason != null && reason.memory()) {
                askForEvidence(w, drain);
            }
            w.link().send(drain.build());
        } else {
            w.process().terminate(); // booting: the worker's TERM handler exits (it has nothing in flight)
        }
        w.startDraining(clock.getAsLong() + gracefulTimeout().toNanos());
        w.drainStartedAt(clock.getAsLong());
    }

    /** Names the worker's evidence file in {@code message} (a runtime directory with a space in its path gets none). */
    private void askForEvidence(WorkerHandle w, LinkMessage.Builder message) {
        Path evidence = runtimeDir.resolve("evidence-" + w.pid() + ".json");
        if (LinkMessage.isToken(evidence.toString())) {
            w.expectEvidence(evidence);
            message.put("evidence", spawner.seenByWorker(evidence).toString());
        }
    }

    /**
     * For the hard memory limit (reason memory-hard): CEILING tells the worker to stop accepting at once and answer
     * only what it has in flight within {@code deadline}; SIGKILL then, unless it exited first, or at once if its
     * memory passes CEILING_OVERSHOOT x the hard limit meanwhile (Recycler). It is given up on now, as by
     * {@link #killNow}: its slot is free, so the replacement spawns at once. A worker that cannot be told (booting,
     * draining, no link) is killed at once.
     */
    void ceiling(WorkerHandle w, Duration deadline, long reading, String why) {
        if (w.is(WorkerState.DRAINING) && w.link() != null) {
            ceilingWhileDraining(w, deadline, reading, why);
            return;
        }
        if (!w.is(WorkerState.SERVING) || w.link() == null) {
            killNow(w, RecycleReason.MEMORY_HARD, why);
            return;
        }
        respawns.memoryExit(w.sinceReady(clock.getAsLong())); // no crash backoff, unless within its boot
        long now = clock.getAsLong();
        LinkMessage.Builder ceiling = LinkMessage.of(LinkMessage.Type.CEILING)
                .put("deadline_ms", Math.max(1, deadline.toMillis()));
        askForEvidence(w, ceiling);
        w.link().send(ceiling.build());
        log.error("{} at the memory ceiling ({}): {}; {} request(s) in flight at its last report: it stops accepting"
                + " now and has {} to answer them, then SIGKILL; {}", w, RecycleReason.MEMORY_HARD.label(), why,
                w.stats().inflight(), Arbiter.seconds(deadline), respawns.replacementWhen());
        w.markKilled(RecycleReason.MEMORY_HARD, why, now + deadline.toNanos());
        w.markCeiling(now, deadline.toNanos(), reading);
        count(RecycleReason.MEMORY_HARD);
    }

    /**
     * A draining worker over the hard limit (a planned recycle that the leak overtook): it accepts nothing already and
     * its replacement serves, so it keeps its slot's bookkeeping and is not counted again; CEILING shortens its idle
     * grace and skips what evidence is left, and it is SIGKILLed at the ceiling's deadline (if its drain's is later)
     * or at once past CEILING_OVERSHOOT, rather than at once: its requests in flight are answered.
     */
    private void ceilingWhileDraining(WorkerHandle w, Duration deadline, long reading, String why) {
        long now = clock.getAsLong();
        w.link().send(LinkMessage.of(LinkMessage.Type.CEILING).put("deadline_ms", Math.max(1, deadline.toMillis()))
                .build());
        log.error("{} at the memory ceiling while draining ({}): {}; {} request(s) in flight at its last report: it "
                + "has {} to answer them, then SIGKILL", w, w.recycleReason().label(), why, w.stats().inflight(),
                Arbiter.seconds(deadline));
        w.markCeiling(now, deadline.toNanos(), reading);
        w.killBy(now + deadline.toNanos());
    }

    /** Whether a worker under the ceiling has grown past what CEILING_OVERSHOOT allows it (see there). */
    static boolean grewPastCeiling(WorkerHandle w, long reading, long hardLimit) {
        long allowed = (long) (CEILING_OVERSHOOT * hardLimit);
        if (w.readingAtCeiling() > allowed) {
            allowed = w.readingAtCeiling() + (long) ((CEILING_OVERSHOOT - 1) * hardLimit);
        }
        return reading > allowed;
    }

    /**
     * Under the ceiling and still growing past CEILING_OVERSHOOT x the hard limit (or about to, before the next
     * reading): no more time for its requests. {@code howFar} ends in "past" (e.g. "to rss 640.0 MiB, past").
     */
    void killOverCeiling(WorkerHandle w, String howFar) {
        String why = "went on growing under the memory ceiling " + howFar + " " + CEILING_OVERSHOOT
                + " x drover.memory.hard-limit (or 5 % of it beyond the reading that found it over)";
        w.ceilingKilled("SIGKILLed at once: it " + why);
        sigkill(w, why);
    }

    /**
     * How a worker sent CEILING ended, for its exit line; empty for any other. {@code exitedCleanly}: exit code 0,
     * the worker's own exit once nothing was in flight (a worker exits with 0 only after its drain).
     */
    String ceilingOutcome(WorkerHandle w, long now, boolean exitedCleanly) {
        if (!w.underCeiling()) {
            return "";
        }
        String after = Arbiter.seconds(Duration.ofNanos(now - w.ceilingAt()));
        if (exitedCleanly) { // even if a SIGKILL was sent: it came after the worker's own exit
            return "; at the memory ceiling: it exited by itself " + after + " after CEILING, every request it had in"
                    + " flight answered";
        }
        return "; at the memory ceiling: " + (w.ceilingKill() != null ? w.ceilingKill() : "it ended before its deadline")
                + " (" + after + " after CEILING)";
    }

    /** A quick stop: INT, and SIGKILL when the stop's deadline passes. */
    void interrupt(WorkerHandle w) {
        w.process().interrupt();
    }

    /** For hangs and boot timeouts: a thread dump first (SIGQUIT, into the log), SIGKILL a moment later. */
    void quitThenKill(WorkerHandle w, RecycleReason reason, String why) {
        if (reason != RecycleReason.BOOT_TIMEOUT) {
            respawns.forcedExit(age(w)); // a boot timeout is a failed start: its exit counts it (unplanned exit)
        }
        long now = clock.getAsLong();
        log.error("{} {}; {}; SIGQUIT for a thread dump, then SIGKILL; {}", w, why, MemoryWatch.vitals(w, now),
                respawns.replacementWhen());
        w.process().dumpThreads();
        w.markKilled(reason, why, now + DUMP_TO_KILL.toNanos());
        count(reason);
    }

    /**
     * For the hard memory limit: no grace, no dump; the replacement starts at once, without crash backoff unless
     * the worker got there within its boot (Respawns.memoryExit).
     */
    void killNow(WorkerHandle w, RecycleReason reason, String why) {
        respawns.memoryExit(w.sinceReady(clock.getAsLong()));
        log.error("{} killed ({}): {}; SIGKILL; {}", w, reason.label(), why, respawns.replacementWhen());
        w.markKilled(reason, why, -1);
        count(reason);
        sigkill(w, null);
    }

    /** SIGKILL for a worker whose deadline (drain, dump, stop) has passed. */
    void killIfOverdue(WorkerHandle w, long now) {
        if (w.killAt() != -1 && now - w.killAt() >= 0) {
            if (w.underCeiling()) {
                String deadline = Arbiter.seconds(Duration.ofNanos(w.ceilingDeadlineNanos()));
                w.ceilingKilled("SIGKILLed at its deadline (" + deadline + "), its requests in flight not all answered");
                sigkill(w, "has not exited within the memory ceiling's deadline (" + deadline + ")");
                return;
            }
            sigkill(w, w.is(WorkerState.KILLED) ? null : "did not finish draining within "
                    + Arbiter.seconds(gracefulTimeout()) + " (drover.graceful-timeout)");
        }
    }

    void killAll(String why) {
        table.forEach(w -> sigkill(w, why));
    }

    private void sigkill(WorkerHandle w, String why) {
        if (w.markKillSent()) {
            if (why != null) {
                log.warn("{} {}; sending SIGKILL", w, why);
            }
            w.process().kill();
        }
    }

    private Duration age(WorkerHandle w) {
        return Duration.ofNanos(clock.getAsLong() - w.spawnedAt());
    }

    // ---- recycle counts -----------------------------------------------------------------------------------------

    void count(RecycleReason reason) {
        recycles.merge(reason, 1L, Long::sum);
    }

    long recycles(RecycleReason reason) {
        return recycles.getOrDefault(reason, 0L);
    }
}
