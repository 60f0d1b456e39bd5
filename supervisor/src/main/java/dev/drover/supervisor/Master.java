package dev.drover.supervisor;

import dev.drover.supervisor.arbiter.Arbiter;
import dev.drover.supervisor.arbiter.Command;
import dev.drover.supervisor.arbiter.Event;
import dev.drover.supervisor.config.ConfigError;
import dev.drover.supervisor.config.Settings;
import dev.drover.supervisor.control.ControlServer;
import dev.drover.supervisor.control.WorkerLinkServer;
import dev.drover.supervisor.os.Listener;
import dev.drover.supervisor.os.Listeners;
import dev.drover.supervisor.os.Logs;
import dev.drover.supervisor.os.NettyNative;
import dev.drover.supervisor.os.OpenFiles;
import dev.drover.supervisor.os.PidFile;
import dev.drover.supervisor.os.Signals;
import dev.drover.supervisor.os.WorkerSpawner;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.stream.Stream;
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

    /** {@code reloader} reads the configuration again from its original sources, for reloads. */
    public Master(Arbiter.Reloader reloader) {
        this.reloader = reloader;
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
        if (settings.logFile().isPresent()) {
            openLogFile(settings.logFile().get(), settings);
        }
        log.info(OpenFiles.raiseToHard());
        EventLoopGroup io = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        teardown.push(() -> io.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS));
        Listeners listeners = new Listeners(io);
        teardown.push(listeners);
        List<Listener> bound = bind(settings, listeners);
        if (settings.pidfile().isPresent()) {
            teardown.push(writePidfile(settings.pidfile().get(), pid, settings));
        }
        Path runtimeDir = privateDirectory();
        teardown.push(() -> deleteTree(runtimeDir));
        Path linkSocket = runtimeDir.resolve("link.sock");
        Arbiter arbiter = new Arbiter(settings, bound, listeners, reloader,
                new WorkerSpawner(linkSocket, NettyNative.extract(runtimeDir)), System::nanoTime);
        Path controlPath = settings.controlSocketPath().orElse(runtimeDir.resolve("control.sock"));
        teardown.push(openControl(controlPath, arbiter, settings));
        teardown.push(WorkerLinkServer.bind(linkSocket, io, arbiter::post));
        Signals.install(Command.signals(), name -> arbiter.post(new Event.SignalReceived(name)));
        log.info("master {} listening on {}; {} worker(s) of {}; control socket {}", pid,
                String.join(", ", bound.stream().map(Listener::display).toList()), settings.workers(),
                settings.app(), controlPath);
        return arbiter;
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
        try {
            return listeners.acquire(settings.bind(), settings.backlog(), settings.unixSocketMode());
        } catch (Listeners.BindFailure e) {
            throw ConfigError.of("drover.bind", e.address.toString(), settings.origin("bind"), e.getMessage(),
                    "an address this host can listen on, not in use by another process");
        }
    }

    private static PidFile writePidfile(Path path, long pid, Settings settings) throws ConfigError {
        try {
            return PidFile.create(path, pid);
        } catch (IOException e) {
            throw ConfigError.of("drover.pidfile", path.toString(), settings.origin("pidfile"),
                    e.getMessage(), "a writable path whose pid is not alive");
        }
    }

    private static ControlServer openControl(Path path, Arbiter arbiter, Settings settings) throws ConfigError {
        try {
            return ControlServer.open(path, arbiter::post);
        } catch (IOException e) {
            throw ConfigError.of("drover.control-socket", path.toString(),
                    settings.origin("control-socket"), e.getMessage(), "a path where this user can create a socket");
        }
    }

    /** The master's private runtime directory: 0700, so only its user can reach the workers' link socket. */
    private static Path privateDirectory() {
        try {
            String base = System.getenv().getOrDefault("XDG_RUNTIME_DIR", System.getProperty("java.io.tmpdir"));
            return Files.createTempDirectory(Path.of(base), "drover-" + ProcessHandle.current().pid() + "-");
        } catch (IOException e) {
            throw new IllegalStateException("cannot create the master's runtime directory: " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
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
