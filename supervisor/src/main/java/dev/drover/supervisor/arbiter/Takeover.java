package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.os.ExitStatus;
import dev.drover.supervisor.os.InheritedChild;
import dev.drover.supervisor.os.LibC;
import dev.drover.supervisor.upgrade.UpgradeState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An upgraded master's side of the upgrade: the old master's workers serve on (their link is gone, their parent is
 * still this pid) while this master's first generation boots; once it serves at full strength, they get SIGTERM (a
 * worker's graceful drain) and SIGKILL at graceful-timeout. They are reaped here ({@link InheritedChild}), as are
 * the old master's other children, so that none is left a zombie.
 */
final class Takeover {

    private static final Logger log = LoggerFactory.getLogger(Takeover.class);

    /** An old master's worker, as the log names it. */
    private record Old(UpgradeState.Child child, InheritedChild process) {
        @Override
        public String toString() {
            return "old worker " + child.id() + " (pid " + child.pid() + ", gen " + child.generation() + ")";
        }
    }

    private final UpgradeState state;
    private final Workers workers;
    private final Generations generations;
    private final LongSupplier clock;
    private final Map<Long, Old> old = new LinkedHashMap<>();
    private boolean draining;
    private long killAt = -1;
    private boolean complete;

    Takeover(UpgradeState state, Workers workers, Generations generations, LongSupplier clock) {
        this.state = state;
        this.workers = workers;
        this.generations = generations;
        this.clock = clock;
    }

    /** Starts reaping every inherited child; those that were not serving are told to stop at once. */
    void start(Consumer<Event> post) {
        for (UpgradeState.Child c : state.workers()) {
            Old o = new Old(c, new InheritedChild(c.pid()));
            old.put(c.pid(), o);
            o.process().follow(o.toString(), status -> post.accept(new Event.InheritedExited(c.pid(), status)));
            if (!c.state().equals("serving")) {
                signal(o, LibC.SIGTERM, "SIGTERM");
            }
        }
        for (long pid : state.others()) {
            new InheritedChild(pid).follow("child " + pid, status -> log.debug("reaped the old master's child {} ({})",
                    pid, ExitStatus.describe(status)));
        }
        if (old.isEmpty()) {
            complete = true;
        }
    }

    /** After each turn: once this master's generation serves at full strength, the old workers drain. */
    void manage() {
        if (draining || complete) {
            return;
        }
        int gen = generations.current().number();
        long serving = workers.all().stream().filter(w -> w.generation() == gen && w.is(WorkerState.SERVING)).count();
        if (generations.wanted() > 0 && serving >= generations.wanted()) {
            drainAll("generation " + gen + " serves with " + serving + " worker(s)", LibC.SIGTERM,
                    workers.gracefulTimeout().toNanos());
        }
    }

    /** The master stops: the old workers stop with it, as its own do (TERM: drain; INT: quick). */
    void stop(boolean graceful, long timeoutNanos) {
        if (!complete) {
            draining = false;
            drainAll("the master is stopping", graceful ? LibC.SIGTERM
                    : LibC.SIGINT, timeoutNanos);
        }
    }

    private void drainAll(String why, int signal, long timeoutNanos) {
        draining = true;
        killAt = clock.getAsLong() + timeoutNanos;
        log.info("upgrade: {}: stopping the {} worker(s) of the old master ({})", why, old.size(),
                signal == LibC.SIGTERM ? "SIGTERM: drain" : "SIGINT");
        old.values().forEach(o -> signal(o, signal, signal == LibC.SIGTERM ? "SIGTERM" : "SIGINT"));
    }

    /** On every tick: SIGKILL for old workers still there at the deadline. */
    void tick(long now) {
        if (draining && killAt != -1 && now - killAt >= 0) {
            killAt = -1;
            old.values().forEach(o -> {
                log.warn("{} did not finish draining in time; sending SIGKILL", o);
                signal(o, LibC.SIGKILL, "SIGKILL");
            });
        }
    }

    /** An old worker was reaped; returns true when the last one is gone (the upgrade is complete). */
    boolean onExit(long pid, int status) {
        Old o = old.remove(pid);
        if (o == null) {
            return false;
        }
        log.info("{} stopped ({})", o, ExitStatus.describe(status));
        if (old.isEmpty() && !complete) {
            complete = true;
            log.info("upgrade complete: drover {} serves generation {} with {} worker(s); the old master's workers are "
                    + "gone", dev.drover.supervisor.upgrade.DroverVersion.current(), generations.current().number(),
                    workers.all().stream().filter(w -> w.is(WorkerState.SERVING)).count());
            return true;
        }
        return false;
    }

    private static void signal(Old o, int signal, String name) {
        String failure = o.process().signal(signal);
        if (failure != null) {
            log.warn("{}: {} not sent: {}", o, name, failure);
        }
    }

    boolean done() {
        return old.isEmpty();
    }

    /** For `drover ctl status`. */
    Map<String, Object> status() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("upgrades", state.upgrades());
        s.put("from_version", state.version());
        s.put("phase", complete ? "complete" : draining ? "draining old workers" : "booting new workers");
        List<Long> pids = new ArrayList<>(old.keySet());
        s.put("old_worker_pids", pids);
        return s;
    }
}
