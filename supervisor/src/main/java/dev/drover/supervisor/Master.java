package dev.drover.supervisor;

import dev.drover.link.LinkMessage;
import dev.drover.supervisor.arbiter.Arbiter;
import dev.drover.supervisor.arbiter.Command;
import dev.drover.supervisor.arbiter.Event;
import dev.drover.supervisor.arbiter.Upgrade;
import dev.drover.supervisor.upgrade.DroverVersion;
import dev.drover.supervisor.upgrade.UpgradeState;
import dev.drover.supervisor.config.BindAddress;
import dev.drover.supervisor.metrics.HealthRequests;
import dev.drover.supervisor.metrics.MetricsServer;
import dev.drover.supervisor.config.CapacityCheck;
import dev.drover.supervisor.config.ConfigError;
import dev.drover.supervisor.config.Settings;
import dev.drover.supervisor.control.ControlServer;
import dev.drover.supervisor.control.WorkerLink;
import dev.drover.supervisor.control.WorkerLinkServer;
import dev.drover.supervisor.os.Listener;
import dev.drover.supervisor.os.Listeners;
import dev.drover.supervisor.os.Logs;
import dev.drover.supervisor.os.NettyNative;
import dev.drover.supervisor.os.OpenFiles;
import dev.drover.supervisor.config.PathErrors;
import dev.drover.supervisor.os.Pid1;
import dev.drover.supervisor.os.PidFile;
import dev.drover.supervisor.os.Posix;
import dev.drover.supervisor.os.PrivateDirectory;
import dev.drover.supervisor.os.CgroupLayout;
import dev.drover.supervisor.os.BootPriority;
import dev.drover.supervisor.os.Cgroups;
import dev.drover.supervisor.os.Credentials;
import dev.drover.supervisor.os.ProcessSpawner;
import dev.drover.supervisor.os.RuntimeDirectory;
import dev.drover.supervisor.os.Signals;
import dev.drover.supervisor.os.StdinSocket;
import dev.drover.supervisor.os.WorkerDirectory;
import dev.drover.supervisor.os.WorkerSpawner;
import dev.drover.supervisor.systemd.NotifySocket;
import dev.drover.supervisor.systemd.SocketActivation;
import dev.drover.supervisor.systemd.SystemdEnvironment;
import dev.drover.supervisor.systemd.SystemdNotifier;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets the master up in the order that leaves nothing half-started (sockets, pidfile, control socket, link
 * socket, signals), runs the arbiter on the calling thread, and takes everything down again in reverse.
 */
public final class Master {

    private static final Logger log = LoggerFactory.getLogger(Master.class);

    private final Deque<AutoCloseable> teardown = new ArrayDeque<>();

    private final Arbiter.Reloader reloader;
    private final Upgrade.Launch launch;
    private final Optional<UpgradeState> inherited;

    /**
     * {@code reloader} reads the configuration again from its original sources, for reloads; {@code launch} is how
     * this master was started, for `drover ctl upgrade`; {@code inherited} is what the master before an upgrade in
     * place handed over (its sockets and workers), when this master is the upgraded one.
     */
    public Master(Arbiter.Reloader reloader, Upgrade.Launch launch, Optional<UpgradeState> inherited) {
        this.reloader = reloader;
        this.launch = launch;
        this.inherited = inherited;
    }

    /** Runs the master to its end; a ConfigError means nothing was started (and nothing is left behind). */
    public int run(Settings settings) throws ConfigError, InterruptedException {
        Arbiter arbiter;
        try {
            arbiter = setUp(settings);
        } catch (ConfigError | RuntimeException e) {
            tearDown();
            throw e;
        }
        try {
            return arbiter.run();
        } finally {
            tearDown();
            log.info("master {} stopped", ProcessHandle.current().pid());
        }
    }

    private Arbiter setUp(Settings settings) throws ConfigError, InterruptedException {
        long pid = ProcessHandle.current().pid();
        Optional<Credentials> workersUser = Credentials.resolve(settings);
        if (settings.logFile().isPresent()) {
            openLogFile(settings.logFile().get(), settings);
        }
        settings.container().autoWorkers().ifPresent(auto -> log.info(auto.found()));
        CapacityCheck.warnings(settings).forEach(log::warn);
        Optional<Cgroups> cgroups = workerCgroups(settings, pid);
        log.info(OpenFiles.raiseToHard());
        Posix.preload(); // jnr's load overlaps the binds; the control socket's bind needs it
        if (settings.foreign()) {
            StdinSocket.ensureStdin(); // spawns lend fd 0 to the worker: it must be the master's stdin, not a jar
        }
        Path runtimeDir = runtimeDirectory();
        teardown.push(() -> RuntimeDirectory.delete(runtimeDir));
        verifyStateDirectories(settings);
        WorkerDirectory workerDir = workerDirectory(runtimeDir, workersUser);
        EventLoopGroup io = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        teardown.push(() -> io.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS));
        Listeners listeners = new Listeners(io);
        teardown.push(listeners);
        inherited.ifPresent(state -> listeners.inherit(state.sockets().stream()
                .collect(java.util.stream.Collectors.toMap(UpgradeState.Socket::address, UpgradeState.Socket::fd))));
        List<Listener> bound = bind(settings, listeners);
        if (settings.pidfile().isPresent()) {
            teardown.push(writePidfile(settings.pidfile().get(), pid, settings));
        }
        Path linkSocket = workerDir.path().resolve("link.sock");
        Arbiter arbiter = new Arbiter(settings, bound, sockets(listeners), reloader, new ProcessSpawner(
                new WorkerSpawner(workerDir, linkSocket, NettyNative.extract(workerDir.path()), cgroups),
                new BootPriority(settings.recycle().bootNice(), settings.recycle().servingNice(),
                        settings.origin("boot-nice"))),
                workerDir.path(), System::nanoTime);
        if (settings.metrics().bind().isPresent()) {
            teardown.push(openMetrics(settings, arbiter));
        }
        arbiter.upgrades(launch, inherited);
        talkToSystemd(arbiter, pid);
        Path controlPath = settings.controlSocketPath().orElse(runtimeDir.resolve("control.sock"));
        teardown.push(openControl(controlPath, arbiter, settings));
        teardown.push(WorkerLinkServer.bind(linkSocket, io, linkEvents(arbiter)));
        handOver(workerDir, linkSocket);
        Signals.install(Command.signals(), name -> arbiter.post(new Event.SignalReceived(name)));
        Pid1.takeOverIfPid1();
        log.info("drover {} master {} listening on {}; {} worker(s) of {}; control socket {}", DroverVersion.current(), pid,
                String.join(", ", bound.stream().map(Listener::display).toList()), settings.workers(),
                settings.app(), controlPath);
        inherited.ifPresent(state -> log.info("drover {} master {} upgraded in place from drover {} (upgrade {}): "
                + "generation {} boots while the {} worker(s) of the old master serve on", DroverVersion.current(), pid,
                state.version(), state.upgrades(), state.generation() + 1, state.workers().size()));
        return arbiter;
    }

    /**
     * Per-worker cgroups (the kernel's memory ceiling) when a hard limit is set and drover.memory.cgroups is auto;
     * where they cannot be had, one line says why, and the limits are enforced by sampling alone.
     */
    private Optional<Cgroups> workerCgroups(Settings settings, long pid) {
        if (settings.memory().hardLimit() <= 0 || !settings.memory().cgroups()) {
            return Optional.empty();
        }
        Cgroups.Setup setup = Cgroups.setUp(CgroupLayout.read(Cgroups.fsRoot()), pid);
        if (setup.cgroups().isEmpty()) {
            log.warn("{}; drover.memory limits are enforced by sampling only (drover.memory.cgroups = off "
                    + "drops this line)", setup.why());
            return Optional.empty();
        }
        teardown.push(setup.cgroups().get());
        log.info("each worker runs in a cgroup of its own under {}: memory.high = drover.memory.hard-limit, "
                + "memory.max = 110 % of it", setup.cgroups().get().base());
        return setup.cgroups();
    }

    /**
     * Under systemd: sd_notify messages if NOTIFY_SOCKET is set, and a word on passed sockets that are not ours.
     * Then systemd's variables leave the process's environment (the workers' is scrubbed apart: WorkerSpawner).
     */
    private void talkToSystemd(Arbiter arbiter, long pid) {
        Map<String, String> env = System.getenv();
        SocketActivation.read(env, pid).ignored().ifPresent(log::warn);
        String address = env.get("NOTIFY_SOCKET");
        if (address != null && !address.isEmpty()) {
            try {
                NotifySocket socket = NotifySocket.open(address);
                teardown.push(socket);
                Duration watchdog = SystemdNotifier.watchdogInterval(env, pid);
                arbiter.addLifecycleListener(new SystemdNotifier(socket::send, pid, watchdog,
                        () -> System.nanoTime() / 1000, System.nanoTime()));
                log.info("notifying systemd on {}{}", address, watchdog.isZero() ? ""
                        : "; watchdog ping every " + watchdog.toMillis() + " ms (half of WATCHDOG_USEC)");
            } catch (IOException | RuntimeException e) {
                log.warn("cannot open a socket to notify systemd on NOTIFY_SOCKET={}: {}; going on without "
                        + "(a Type=notify unit will time out waiting for READY=1)", address, e.toString());
            }
        }
        if (SystemdEnvironment.NAMES.stream().anyMatch(env::containsKey)) {
            SystemdEnvironment.unsetInProcess();
        }
    }

    /** The arbiter's view of the listening sockets: binds for a reload fail as configuration errors. */
    private static Arbiter.Sockets sockets(Listeners listeners) {
        return new Arbiter.Sockets() {
            @Override
            public List<Listener> acquire(Settings next) throws ConfigError {
                return bind(next, listeners);
            }

            @Override
            public void releaseAllBut(Set<BindAddress> inUse) {
                listeners.releaseAllBut(inUse);
            }
        };
    }

    /** What arrives on the workers' control links becomes arbiter events (on Netty's thread: post only). */
    private static WorkerLinkServer.Inbound linkEvents(Arbiter arbiter) {
        return new WorkerLinkServer.Inbound() {
            @Override
            public void hello(WorkerLink link, LinkMessage hello, long peerPid) {
                arbiter.post(new Event.LinkHello(link, hello, peerPid));
            }

            @Override
            public void received(WorkerLink link, LinkMessage message) {
                arbiter.post(new Event.LinkReceived(link, message));
            }

            @Override
            public void failed(WorkerLink link, String problem) {
                arbiter.post(new Event.LinkFailed(link, problem));
            }
        };
    }

    /** Before anything starts: a log file that cannot be written is a configuration error, not a silent log. */
    private static void openLogFile(Path file, Settings settings) throws ConfigError {
        try {
            Logs.toFile(file);
        } catch (Logs.Unusable e) {
            throw ConfigError.of("drover.log-file", file.toString(), settings.origin("log-file"),
                    "cannot open it for appending: " + e.getMessage(),
                    "a file this user can append to, in a directory that exists");
        }
    }

    private static List<Listener> bind(Settings settings, Listeners listeners) throws ConfigError {
        List<Listener> bound;
        try {
            bound = listeners.acquire(settings.bind(), settings.backlog(), settings.unixSocketMode());
        } catch (Listeners.BindFailure e) {
            throw ConfigError.of("drover.bind", e.address.toString(), settings.origin("bind"), e.getMessage(),
                    e.address instanceof BindAddress.Fd ? "a listening TCP or Unix stream socket, passed to the "
                    + "master under that fd number" : "an address this host can listen on, not in use by another "
                    + "process");
        }
        for (Listener listener : bound) {
            // Only an inherited fd://N can turn out to be a Unix socket here; AppCheck refused unix:PATH already.
            if (settings.foreign() && !listener.kind().equals("tcp")) {
                throw ConfigError.of("drover.bind", listener.address().toString(), settings.origin("bind"),
                        "a Unix socket while drover.app is a jar or main class (" + settings.appLabel()
                        + "): Tomcat and Jetty take only a TCP socket", "one TCP socket (HOST:PORT, or fd://N of a "
                        + "TCP listener)");
            }
        }
        return bound;
    }

    /**
     * Refuses, before anything is bound or written, a private directory that exists but is not safe to reuse: the
     * control socket's, the leak reports' and the AppCDS archives'. Missing ones are created (0700) when needed.
     */
    private static void verifyStateDirectories(Settings settings) throws ConfigError {
        Optional<Path> control = settings.controlSocketPath();
        if (control.isPresent()) {
            String key = controlKey(settings);
            verifyIfExists("the control socket's directory", control.get().toAbsolutePath().getParent(),
                    PrivateDirectory.Rule.EXACTLY_0700, key,
                    key.equals("pidfile") ? settings.pidfile().get() : control.get(), settings);
        }
        verifyIfExists("the leak reports directory", settings.leakReports().dir(),
                PrivateDirectory.Rule.NOT_WRITABLE_BY_OTHERS, "leak-reports.dir", settings.leakReports().dir(), settings);
        if (settings.cds().enabled()) {
            verifyIfExists("the AppCDS archives' directory", settings.cds().cacheDir(),
                    PrivateDirectory.Rule.NOT_WRITABLE_BY_OTHERS, "cds.cache-dir", settings.cds().cacheDir(), settings);
        }
    }

    private static void verifyIfExists(String what, Path dir, PrivateDirectory.Rule rule, String key, Path value,
            Settings settings) throws ConfigError {
        try {
            PrivateDirectory.verifyIfExists(dir, rule);
        } catch (IOException e) {
            throw refusal(key, value, settings, what, e,
                    "a directory of the master's user that only it can write to");
        }
    }

    /** The key a control socket path comes from: drover.control-socket, or drover.pidfile (PIDFILE.ctl/...). */
    private static String controlKey(Settings settings) {
        return settings.controlSocket().isPresent() ? "control-socket" : "pidfile";
    }

    /** A ConfigError for a path: what is wrong with it and what to do, or the OS's reason it could not be used. */
    private static ConfigError refusal(String key, Path value, Settings settings, IOException e, String expected) {
        return refusal(key, value, settings, "", e, expected);
    }

    /** {@code what} names the directory in the problem ("the control socket's directory"). */
    private static ConfigError refusal(String key, Path value, Settings settings, String what, IOException e,
            String expected) {
        if (e instanceof PrivateDirectory.Unsafe unsafe) {
            return ConfigError.of("drover." + key, value.toString(), settings.origin(key),
                    (what.isEmpty() ? "" : what + " ") + unsafe.problem(), unsafe.expected());
        }
        return ConfigError.of("drover." + key, value.toString(), settings.origin(key),
                (what.isEmpty() ? "" : what + " ") + PathErrors.describe(e), expected);
    }

    private static PidFile writePidfile(Path path, long pid, Settings settings) throws ConfigError {
        try {
            return PidFile.create(path, pid);
        } catch (IOException e) {
            throw refusal("pidfile", path, settings, e, "a writable path whose pid is not alive");
        }
    }

    private static ControlServer openControl(Path path, Arbiter arbiter, Settings settings) throws ConfigError {
        try {
            return ControlServer.open(path, new HealthRequests(arbiter.board(), System::nanoTime,
                    (command, reply) -> arbiter.post(new Event.ControlRequest(command, reply))));
        } catch (IOException e) {
            if (settings.controlSocketPath().isEmpty()) {
                throw new IllegalStateException("cannot open the control socket in the master's runtime directory: "
                        + PathErrors.describe(e), e);
            }
            String key = controlKey(settings);
            throw refusal(key, key.equals("pidfile") ? settings.pidfile().get() : path, settings,
                    e instanceof PrivateDirectory.Unsafe ? "the control socket's directory" : "", e,
                    "a path where this user can create a socket");
        }
    }

    /** /metrics, /healthz, /readyz on metrics.bind, on an event loop of their own. */
    private static MetricsServer openMetrics(Settings settings, Arbiter arbiter) throws ConfigError {
        BindAddress address = settings.metrics().bind().get();
        try {
            MetricsServer server = MetricsServer.open(address, arbiter.board(), System::nanoTime);
            log.info("metrics on {}: /metrics, /healthz, /readyz", server.display());
            return server;
        } catch (IOException e) {
            throw ConfigError.of("drover.metrics.bind", address.toString(), settings.origin("metrics.bind"),
                    "cannot listen there: " + e.getMessage(), "an address this host can listen on, not in use by "
                    + "another process or by drover.bind");
        }
    }

    /**
     * This master's private runtime directory (0700, so only its user can reach the workers' link socket), after
     * removing those of dead masters; refused if the base directory is not ours.
     */
    private static Path runtimeDirectory() throws ConfigError {
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        Path base = RuntimeDirectory.base(System.getenv(), Posix.euid(), System.getProperty("java.io.tmpdir"));
        try {
            return RuntimeDirectory.create(base);
        } catch (IOException e) {
            String origin = xdg != null && !xdg.isBlank() ? "$XDG_RUNTIME_DIR/drover"
                    : "the default: /run/drover for root, else java.io.tmpdir/drover-UID";
            String fix = "set XDG_RUNTIME_DIR to a directory of your own, whose drover subdirectory holds the "
                    + "runtime directories";
            String line = e instanceof PrivateDirectory.Unsafe unsafe
                    ? unsafe.problem() + " (expected: " + unsafe.expected() + "; or " + fix + ")"
                    : PathErrors.describe(e) + " (expected: a directory this user can create; or " + fix + ")";
            throw new ConfigError(List.of("the master's runtime directory " + base + " (" + origin + "): " + line));
        }
    }

    /**
     * Where the workers reach the link socket and write their files: the runtime directory, or for workers of
     * another user (drover.user) a directory of theirs inside it (WorkerDirectory).
     */
    private static WorkerDirectory workerDirectory(Path runtimeDir, Optional<Credentials> user) {
        if (user.isEmpty()) {
            return WorkerDirectory.shared(runtimeDir);
        }
        try {
            WorkerDirectory dir = WorkerDirectory.create(runtimeDir, user.get());
            log.info("workers run as {}; they reach {} (theirs) and nothing else of the master's", user.get().display(),
                    dir.path());
            return dir;
        } catch (IOException e) {
            throw new IllegalStateException("cannot make the workers' directory in " + runtimeDir + " for "
                    + user.get().display() + ": " + PathErrors.describe(e), e);
        }
    }

    /** The link socket, bound by root, becomes the workers' user's: connecting to it needs write permission. */
    private static void handOver(WorkerDirectory dir, Path linkSocket) {
        try {
            dir.handOver(linkSocket);
        } catch (IOException e) {
            throw new IllegalStateException("cannot give the link socket " + linkSocket + " to the workers' user: "
                    + PathErrors.describe(e), e);
        }
    }

    private void tearDown() {
        while (!teardown.isEmpty()) {
            try {
                teardown.pop().close();
            } catch (Exception e) {
                log.warn("while stopping: {}", e.toString());
            }
        }
    }
}
