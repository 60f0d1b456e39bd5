package dev.drover.supervisor.arbiter;

import dev.drover.link.LinkMessage;
import dev.drover.supervisor.config.BindAddress;
import dev.drover.supervisor.config.ConfigError;
import dev.drover.supervisor.config.ConfigLoader;
import dev.drover.supervisor.config.ConfigSources;
import dev.drover.supervisor.config.Settings;
import dev.drover.supervisor.control.WorkerLink;
import dev.drover.supervisor.os.Listener;
import dev.drover.supervisor.os.ProcMemory;
import dev.drover.supervisor.os.Spawner;
import dev.drover.supervisor.os.WorkerProcess;
import dev.drover.supervisor.os.WorkerSpawner;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntConsumer;

/**
 * An arbiter with no processes and no threads: a fake clock, fake worker processes and fake control links. The
 * test posts what a worker would send (HELLO, READY, STATS, its exit) and runs the loop turn by turn.
 */
final class Harness {

    /** Above the largest pid_max (2^22): no /proc entry can ever match a fake worker. */
    private static final long FIRST_PID = 5_000_000;

    final Settings settings;
    /** What a reload (HUP) reads: these settings unless a test sets others. */
    Settings reloadTo;
    long now = 1_000_000_000L;
    final List<FakeProcess> spawned = new ArrayList<>();
    final Arbiter arbiter;
    private long nextPid = FIRST_PID;

    /** {@code flags}: drover.* keys and values, as command-line flags would give them. */
    Harness(Map<String, Object> flags) throws ConfigError {
        settings = settings(flags);
        reloadTo = settings;
        arbiter = new Arbiter(settings, List.of(), new NoSockets(), () -> reloadTo, new FakeSpawner(),
                Path.of("/nonexistent-runtime-dir"), () -> now);
        arbiter.start();
        run();
    }

    static Settings settings(Map<String, Object> flags) throws ConfigError {
        List<ConfigSources.Flag> list = new ArrayList<>();
        list.add(new ConfigSources.Flag("drover.app", "dev.example.App", "argument APP"));
        list.add(new ConfigSources.Flag("drover.cds.enabled", false, "test"));
        flags.forEach((key, value) -> list.add(new ConfigSources.Flag("drover." + key, value, "test")));
        return ConfigLoader.load(new ConfigSources(Optional.empty(), Map.of(), list));
    }

    // ---- driving the loop ---------------------------------------------------------------------------------------

    /** Runs every queued event; returns whether the master has stopped. */
    boolean run() {
        return arbiter.runQueued();
    }

    /** Time passes (no tick unless a second boundary is crossed), then the loop runs. */
    boolean advance(Duration d) {
        now += d.toNanos();
        return run();
    }

    boolean tick() {
        return advance(Duration.ofMillis(Arbiter.TICK_MS));
    }

    void signal(String name) {
        arbiter.post(new Event.SignalReceived(name));
        run();
    }

    CompletableFuture<String> ctl(String line) {
        CompletableFuture<String> reply = new CompletableFuture<>();
        arbiter.post(new Event.ControlRequest(line, reply));
        run();
        return reply;
    }

    /** The worker connects (HELLO) and reports READY; a foreign worker (a jar app) says it inherited its socket. */
    void boot(FakeProcess p) {
        if (p.link == null) {
            hello(p, settings.foreign());
        }
        if (p.spec.standby() && p.link.sent(LinkMessage.Type.ADOPT) == 0) {
            return; // a standby JVM reports READY only once adopted
        }
        p.readySent = true;
        arbiter.post(new Event.LinkReceived(p.link, LinkMessage.of(LinkMessage.Type.READY).put("boot_ms", 100).build()));
        run();
    }

    /** The worker connects (HELLO), saying inherited=1 or not. */
    void hello(FakeProcess p, boolean inherited) {
        p.link = new FakeLink();
        LinkMessage.Builder hello = LinkMessage.of(LinkMessage.Type.HELLO).put("id", p.spec.id())
                .put("secret", p.spec.secret());
        if (inherited) {
            hello.put("inherited", 1);
        }
        arbiter.post(new Event.LinkHello(p.link, hello.build(), p.pid));
        run();
    }

    /** A spare that was sent PROMOTE says it accepts now. */
    void promoted(FakeProcess p) {
        arbiter.post(new Event.LinkReceived(p.link, LinkMessage.of(LinkMessage.Type.PROMOTED).put("sockets", 1).build()));
        run();
    }

    void stats(FakeProcess p, long requests, long loopStallMs) {
        arbiter.post(new Event.LinkReceived(p.link, LinkMessage.of(LinkMessage.Type.STATS).put("requests", requests)
                .put("inflight", 0).put("connections", 0).put("loop_stall_ms", loopStallMs).put("gc_ms", 0)
                .put("heap_used", 0).build()));
        run();
    }

    void exit(FakeProcess p, int status) {
        p.exit(status);
        run();
    }

    /**
     * Plays every worker as a well-behaved one until nothing changes: new ones boot, told-to-stop ones exit. Runs
     * the loop after each step; returns whether the master stopped.
     */
    boolean settle() {
        for (int round = 0; round < 100; round++) {
            FakeProcess next = spawned.stream().filter(p -> !p.exited && (p.link == null || p.toldToStop()
                    || (p.spec.standby() && !p.readySent && p.link.sent(LinkMessage.Type.ADOPT) > 0)))
                    .findFirst().orElse(null);
            if (next == null) {
                return false;
            }
            if (!next.toldToStop()) {
                boot(next);
            } else {
                exit(next, 0);
                if (arbiter.workers().isEmpty() && run()) {
                    return true;
                }
            }
        }
        throw new AssertionError("the workers did not settle in 100 steps: " + spawned);
    }

    // ---- looking ------------------------------------------------------------------------------------------------

    Workers arbiterWorkers() {
        return arbiter.workers();
    }

    List<WorkerHandle> workers() {
        return arbiter.workers().all();
    }

    long inState(WorkerState... states) {
        return workers().stream().filter(w -> Set.of(states).contains(w.state())).count();
    }

    List<FakeProcess> alive() {
        return spawned.stream().filter(p -> !p.exited).toList();
    }

    FakeProcess last() {
        return spawned.get(spawned.size() - 1);
    }

    // ---- the fakes ----------------------------------------------------------------------------------------------

    final class FakeSpawner implements Spawner {
        @Override
        public WorkerProcess spawn(WorkerSpawner.Spec spec, Settings s) {
            FakeProcess p = new FakeProcess(nextPid++, spec);
            spawned.add(p);
            return p;
        }

        /** Standby JVMs of settings with the same worker-jvm-options and sockets are the same JVM. */
        @Override
        public Optional<String> standbyKey(Settings s, List<Listener> listeners) {
            return s.foreign() ? Optional.empty() : Optional.of("java " + s.workerJvmOptions() + " " + listeners);
        }

        @Override
        public Optional<LinkMessage> adoption(WorkerSpawner.Spec spec, Settings s) {
            return Optional.of(LinkMessage.of(LinkMessage.Type.ADOPT).put("id", spec.id())
                    .put("generation", spec.generation()).put("app", s.app()).put("spare", spec.spare() ? 1 : 0)
                    .build());
        }

        @Override
        public Process train(Settings s, java.util.Optional<Path> runJar, Path archive) throws IOException {
            throw new IOException("no training runs in unit tests");
        }

        @Override
        public Process extract(Path fatJar, Path destination) throws IOException {
            throw new IOException("no extractions in unit tests");
        }
    }

    /** A worker process: records the signals it got; the test decides when it exits. */
    static final class FakeProcess implements WorkerProcess {
        final long pid;
        final WorkerSpawner.Spec spec;
        final List<String> signals = new ArrayList<>();
        long rss = 50 << 20;
        List<String> tail = List.of("Exception in thread \"main\" java.lang.IllegalStateException: cannot boot");
        FakeLink link;
        /** It reported READY (a standby JVM does only once adopted). */
        boolean readySent;
        boolean exited;
        boolean released;
        private IntConsumer onExit;

        FakeProcess(long pid, WorkerSpawner.Spec spec) {
            this.pid = pid;
            this.spec = spec;
        }

        void exit(int status) {
            if (exited) {
                throw new AssertionError("pid " + pid + " exited twice");
            }
            exited = true;
            onExit.accept(status);
        }

        /** Got TERM, INT or KILL, or a DRAIN over its link. */
        boolean toldToStop() {
            return signals.contains("TERM") || signals.contains("INT") || signals.contains("KILL")
                    || (link != null && link.sent(LinkMessage.Type.DRAIN) + link.sent(LinkMessage.Type.CEILING) > 0);
        }

        long count(String signal) {
            return signals.stream().filter(signal::equals).count();
        }

        int generation() {
            return spec.generation();
        }

        @Override
        public long pid() {
            return pid;
        }

        @Override
        public void follow(String name, IntConsumer onExit) {
            this.onExit = onExit;
        }

        @Override
        public void terminate() {
            signals.add("TERM");
        }

        @Override
        public void kill() {
            signals.add("KILL");
        }

        @Override
        public void dumpThreads() {
            signals.add("QUIT");
        }

        @Override
        public void interrupt() {
            signals.add("INT");
        }

        /** How often the master read its statm. */
        int rssReads;

        @Override
        public long rssBytes() {
            rssReads++;
            return exited ? -1 : rss;
        }

        @Override
        public ProcMemory.Rollup rollup() {
            return exited ? new ProcMemory.Rollup(-1, -1) : new ProcMemory.Rollup(rss, rss);
        }

        @Override
        public List<String> outputTail() {
            return tail;
        }

        @Override
        public void release() {
            released = true;
        }

        @Override
        public String toString() {
            return "pid " + pid + " (slot " + spec.id() + ", gen " + spec.generation() + ", " + signals
                    + (exited ? ", exited" : "") + ")";
        }
    }

    /** A control link that records what the master sent. */
    static final class FakeLink implements WorkerLink {
        final List<LinkMessage> sent = new ArrayList<>();
        boolean closed;

        long sent(LinkMessage.Type type) {
            return sent.stream().filter(m -> m.type() == type).count();
        }

        @Override
        public void send(LinkMessage message) {
            sent.add(message);
        }

        int socketHandOvers;

        @Override
        public void sendListeningSockets(List<Listener> listeners) {
            socketHandOvers++;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private static final class NoSockets implements Arbiter.Sockets {
        @Override
        public List<Listener> acquire(Settings s) {
            return List.of();
        }

        @Override
        public void releaseAllBut(Set<BindAddress> inUse) {
        }
    }
}
