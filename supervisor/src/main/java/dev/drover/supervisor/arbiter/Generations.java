package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.config.BindAddress;
import dev.drover.supervisor.config.ConfigError;
import dev.drover.supervisor.config.Settings;
import dev.drover.supervisor.control.Json;
import dev.drover.supervisor.metrics.MasterTallies;
import dev.drover.supervisor.os.Listener;
import dev.drover.supervisor.policy.RecycleReason;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which generation workers are spawned with, and how many: reloads (with their canary and roll-out), resizing,
 * pausing and manual recycles. Run on the arbiter thread; Workers carries out what it decides for each worker.
 */
final class Generations {

    private static final Logger log = LoggerFactory.getLogger(Generations.class);
    /** How much of a failed canary's output `drover ctl reload` prints (the log has more). */
    static final int CANARY_LINES_ANSWERED = 10;

    private final Workers workers;
    private final Recycler recycler;
    private final Cds cds;
    private final Shutdown shutdown;
    private final Arbiter.Sockets sockets;
    private final Arbiter.Reloader reloader;
    private final LongSupplier clock;
    /** Where reload outcomes are counted (/metrics). */
    private final MasterTallies tallies;
    private final LifecycleListener lifecycle;

    /** The newest generation: new workers are spawned with it. */
    private Generation current;
    /** While a reload's canary boots: the generation the serving workers run, to fall back to if it fails. */
    private Generation fallback;
    private int fallbackTarget;
    /** A reload whose old workers are not all replaced yet. */
    private boolean rollingOut;
    private int targetWorkers;
    private boolean paused;
    /** Where the time of the newest reload went, for its `complete` line and `drover ctl status`. */
    private ReloadTimes times;
    /** The breakdown of the last reload that completed ("" before the first). */
    private String lastReload = "";
    /** `drover ctl reload` clients waiting for the outcome of the newest reload (a newer one supersedes theirs). */
    private final List<Waiter> waiters = new ArrayList<>();

    private record Waiter(CompletableFuture<String> reply, long deadline) {
    }

    Generations(Workers workers, Recycler recycler, Cds cds, Shutdown shutdown, Arbiter.Sockets sockets,
                Arbiter.Reloader reloader, LongSupplier clock, Generation first, MasterTallies tallies,
                LifecycleListener lifecycle) {
        this.tallies = tallies;
        this.lifecycle = lifecycle;
        this.workers = workers;
        this.recycler = recycler;
        this.cds = cds;
        this.shutdown = shutdown;
        this.sockets = sockets;
        this.reloader = reloader;
        this.clock = clock;
        this.targetWorkers = first.settings().workers();
        spawnFrom(first);
        shutdown.onBegin(why -> abandonWaiters("the master is stopping (" + why + ")"));
    }

    /** New workers, and the limits the recycler applies, come from {@code generation} from now on. */
    private void spawnFrom(Generation generation) {
        current = generation;
        workers.spawnFrom(generation);
        recycler.configure(generation);
    }

    Generation current() {
        return current;
    }

    /** A master upgraded in place goes on counting from the old master's generation; before the first turn. */
    void continueFrom(int oldGeneration) {
        spawnFrom(new Generation(oldGeneration + 1, current.settings(), current.listeners()));
    }

    /**
     * How many spares to keep (drover.spare-workers of the current generation): none while paused, nor during a
     * reload: the old generation's are stopped at its start, and the new one gets its own once it is complete.
     */
    int sparesWanted() {
        return paused || rollingOut || fallback != null ? 0 : current.settings().recycle().spareWorkers();
    }

    /** How many standby JVMs to keep (drover.standby-jvms of the current generation); 0 while paused. */
    int standbysWanted() {
        return paused ? 0 : current.settings().recycle().standbyJvms();
    }

    /** Whether new standby JVMs may boot: not during a reload, whose new workers have the CPU first. */
    boolean standbysMayBoot() {
        return !rollingOut && fallback == null;
    }

    /** How many workers should be serving now: 0 while paused. */
    int wanted() {
        return paused ? 0 : targetWorkers;
    }

    int targetWorkers() {
        return targetWorkers;
    }

    boolean paused() {
        return paused;
    }

    /** Whether a reload's canary is booting (no other replacement may start meanwhile). */
    boolean canaryPending() {
        return fallback != null;
    }

    /**
     * A worker of the newest generation that never became READY exited: was it a reload's canary? (With
     * reload-canary = together, every new worker that boots before the first is READY is one.)
     */
    boolean isCanary(WorkerHandle w) {
        return fallback != null && w.generation() == current.number() && w.readyAt() == -1;
    }

    String reloadPhase() {
        return fallback != null ? "canary" : rollingOut ? "rolling out" : "none";
    }

    /**
     * Reads the configuration again; if it is valid and its addresses can be bound, starts the next generation with
     * a canary. Changes nothing otherwise. A reload during a reload starts over from the newest configuration.
     */
    String reload(String source) throws Control.Refused {
        refuseWhileStopping(source);
        long began = clock.getAsLong();
        lifecycle.reloadStarted();
        Settings next;
        List<Listener> bound;
        try {
            next = reloader.load();
            bound = sockets.acquire(next);
        } catch (ConfigError e) {
            log.error("{}: reload refused, nothing changed:\n  {}", source, String.join("\n  ", e.problems()));
            tallies.reload("refused");
            lifecycle.reloadEnded(LifecycleListener.ReloadOutcome.REFUSED, "reload refused, nothing changed: "
                    + String.join("; ", e.problems()));
            throw new Control.Refused("reload refused, nothing changed: " + String.join("; ", e.problems()));
        }
        long read = clock.getAsLong();
        for (WorkerHandle w : List.copyOf(workers.all())) {
            if (w.is(WorkerState.BOOTING)) {
                // Not serving yet, and of an older generation now: stopped; its slot is refilled from the new one.
                workers.drain(w, null);
            }
        }
        if (fallback == null) {
            fallback = current;
            fallbackTarget = targetWorkers;
        }
        spawnFrom(new Generation(current.number() + 1, next, bound));
        cds.prepare(current);
        targetWorkers = next.workers();
        paused = false;
        rollingOut = true;
        long old = workers.all().stream().filter(w -> w.generation() < current.number() && w.state().holdsSlot())
                .count();
        times = new ReloadTimes(began, read, next.workers(), next.recycle().reloadSurgeLabel());
        String done = "reload to generation " + current.number() + " started: " + next.workers() + " worker(s) of "
                + next.app() + "; " + old + " old worker(s) to replace, canary first (config read and checked in "
                + TimeUnit.NANOSECONDS.toMillis(read - began) + " ms)";
        log.info("{}: {}", source, done);
        next.container().autoWorkers().ifPresent(auto -> log.info(auto.found()));
        return done;
    }

    /**
     * Answers {@code reply} with the outcome of the reload just started: complete (ok), abandoned (error), or, at
     * {@code deadline}, where it stands: committed and rolling out (ok) or its canary still booting (pending).
     */
    void awaitOutcome(CompletableFuture<String> reply, long deadline) {
        waiters.add(new Waiter(reply, deadline));
    }

    /** On every tick: a waiter whose deadline passed is told where the reload stands. */
    void answerOverdueWaiters(long now) {
        waiters.removeIf(w -> now - w.deadline() >= 0 && w.reply().complete(whereTheReloadStands()));
    }

    private String whereTheReloadStands() {
        String reload = "reload to generation " + current.number();
        if (fallback != null) {
            return Json.write(Map.of("pending", reload + " pending: its canary is still booting (drover.boot-timeout is "
                    + Arbiter.seconds(current.settings().bootTimeout()) + "); `drover ctl status` shows the outcome "
                    + "(reload: canary, then rolling out or none), and the log says complete or abandoned"));
        }
        return Json.write(Map.of("ok", reload + " committed: its canary is serving and " + oldWorkers()
                + " old worker(s) are still being replaced (`drover ctl status` shows the progress)"));
    }

    /** The master stops: nobody waits for a reload any more. */
    void abandonWaiters(String why) {
        answerWaiters(Json.write(Map.of("error", "reload to generation " + current.number() + " given up: " + why)));
    }

    private void answerWaiters(String answer) {
        waiters.forEach(w -> w.reply().complete(answer));
        waiters.clear();
    }

    private long oldWorkers() {
        return workers.all().stream().filter(this::old).count();
    }

    /** The canary of a reload is ready: the new generation rolls out. */
    void canaryPassed(WorkerHandle canary) {
        log.info("{} is the canary of generation {} and it is ready: replacing the old workers (drover.reload-surge "
                + "= {}, reload-canary = {})", canary, current.number(), current.settings().recycle().reloadSurgeLabel(),
                current.settings().recycle().reloadCanaryLabel());
        fallback = null;
        if (times != null) {
            times.canaryReady(canary.spawnedAt(), canary.readyAt());
        }
    }

    /** The canary could not boot: the reload is abandoned and the old generation goes on, untouched. */
    void canaryFailed(WorkerHandle canary, String how) {
        String abandoned = "reload to generation " + current.number() + " abandoned: its canary " + canary
                + " could not boot (" + how + "); generation " + fallback.number() + " keeps serving, nothing changed.";
        List<String> tail = canary.process().outputTail();
        log.error("{} The canary's last output:\n  {}", abandoned, String.join("\n  ", tail));
        tallies.reload("abandoned");
        lifecycle.reloadEnded(LifecycleListener.ReloadOutcome.ABANDONED, abandoned);
        answerWaiters(Json.write(Map.of("error", abandoned + " Its last output:\n  " + String.join("\n  ",
                tail.subList(Math.max(0, tail.size() - CANARY_LINES_ANSWERED), tail.size())))));
        for (WorkerHandle w : List.copyOf(workers.all())) {
            if (w.generation() == current.number() && w.state().holdsSlot()) {
                w.unpair(); // (reload-canary = together: its siblings) the old worker it was to replace stays as it is
                workers.drain(w, null);
            }
        }
        spawnFrom(fallback);
        targetWorkers = fallbackTarget;
        recycler.unmarkReload();
        fallback = null;
        rollingOut = false;
        releaseListeners();
    }

    void finishRollout() {
        if (!rollingOut || fallback != null) {
            return;
        }
        boolean oldLeft = workers.all().stream().anyMatch(this::old);
        if (!oldLeft && workers.all().stream().filter(w -> w.is(WorkerState.SERVING)).count() >= targetWorkers) {
            rollingOut = false;
            releaseListeners();
            String complete = "reload to generation " + current.number() + " complete: " + targetWorkers
                    + " worker(s) serving";
            lastReload = times == null ? "" : times.breakdown(lastNewReady(), clock.getAsLong());
            log.info("{}; {}", complete, lastReload);
            tallies.reload("complete");
            lifecycle.reloadEnded(LifecycleListener.ReloadOutcome.COMPLETE, complete);
            answerWaiters(Json.write(Map.of("ok", complete)));
        }
    }

    /**
     * A worker of an older generation, which a reload waits for: a standby JVM is of none (its number is only the
     * one it was spawned under), so a reload that spawned its workers beside standbys still booting completes.
     */
    private boolean old(WorkerHandle w) {
        return w.generation() < current.number() && w.standbyKey() == null;
    }

    /** When the last worker of the current generation became READY (-1 if none is). */
    private long lastNewReady() {
        return workers.all().stream().filter(w -> w.generation() == current.number() && w.readyAt() != -1)
                .mapToLong(WorkerHandle::readyAt).reduce((a, b) -> b - a > 0 ? b : a).orElse(-1);
    }

    /** The breakdown of the last completed reload, for `drover ctl status` ("" before the first). */
    String lastReload() {
        return lastReload;
    }

    /** Closes the sockets of addresses that neither the current generation nor any worker still uses. */
    void releaseListeners() {
        Set<BindAddress> inUse = new HashSet<>();
        current.listeners().forEach(l -> inUse.add(l.address()));
        workers.all().forEach(w -> w.listeners().forEach(l -> inUse.add(l.address())));
        sockets.releaseAllBut(inUse);
    }

    String scale(int n, String source) throws Control.Refused {
        refuseWhileStopping(source);
        if (n < 1) {
            throw new Control.Refused("scale " + n + ": " + "expected: at least 1 worker (to stop them all, use pause)");
        }
        String done = "workers: " + targetWorkers + (paused ? " (paused)" : "") + " -> " + n;
        targetWorkers = n;
        paused = false;
        log.info("{}: {}", source, done);
        return done;
    }

    String pause(String source) throws Control.Refused {
        refuseWhileStopping(source);
        paused = true;
        String done = "paused: draining " + workers.all().stream().filter(w -> w.state().holdsSlot()).count()
                + " worker(s); the master keeps its sockets (reload or scale N brings workers back)";
        log.info("{}: {}", source, done);
        return done;
    }

    String recycle(int id, String source) throws Control.Refused {
        refuseWhileStopping(source);
        List<WorkerHandle> serving = workers.all().stream()
                .filter(w -> w.id() == id && w.is(WorkerState.SERVING) && w.recycleReason() == null).toList();
        if (serving.isEmpty()) {
            throw new Control.Refused("recycle " + id + ": no serving worker with id " + id + " (expected one of: "
                    + workers.all().stream().filter(w -> w.is(WorkerState.SERVING)).map(WorkerHandle::id).sorted()
                    .toList() + ")");
        }
        serving.forEach(w -> Recycler.mark(w, RecycleReason.MANUAL, source, clock.getAsLong()));
        return "recycling " + serving.get(0) + ": its replacement boots first";
    }

    private void refuseWhileStopping(String source) throws Control.Refused {
        if (shutdown.underway()) {
            throw new Control.Refused(source + ": the master is stopping");
        }
    }

    /** Workers beyond the wanted count (after a scale-down or a pause) are drained: slots above it empty out. */
    void retireExtraWorkers() {
        if (fallback != null) {
            return; // a canary is booting: the old generation stays exactly as it was until it passes
        }
        int wanted = paused ? 0 : targetWorkers;
        for (WorkerHandle w : List.copyOf(workers.all())) {
            if (w.id() > wanted && w.state().holdsSlot()) {
                log.info("{} is not needed ({} worker(s) wanted): draining", w, wanted);
                workers.drain(w, null);
            }
        }
    }
}
