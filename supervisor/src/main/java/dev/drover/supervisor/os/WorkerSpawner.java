package dev.drover.supervisor.os;

import dev.drover.link.LinkMessage;
import dev.drover.logging.DroverLogConfigurator;
import dev.drover.supervisor.config.AppClasspath;
import dev.drover.supervisor.config.AppKind;
import dev.drover.supervisor.config.Settings;
import dev.drover.supervisor.config.WorkerMemory;
import dev.drover.supervisor.systemd.SystemdEnvironment;
import dev.drover.supervisor.upgrade.UpgradeState;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Socket;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts worker JVMs with ProcessBuilder: the JDK closes every fd the master holds and reaps the child itself
 * (never waitpid(-1): it steals the JDK's children). A DroverApp worker gets its listening sockets later, over its
 * control link; a jar or main-class worker (a foreign app) starts with the one socket as its fd 0 (StdinSocket),
 * under Drover's agent, with the app's own class path and nothing of Drover's on it. The DROVER_INTERNAL_* names are
 * a contract with dev.drover.worker.runtime.WorkerEnv (and, for a foreign worker, with dev.drover.agent).
 */
public final class WorkerSpawner {

    private static final Logger log = LoggerFactory.getLogger(WorkerSpawner.class);

    public static final String MAIN_CLASS = "dev.drover.worker.runtime.WorkerMain";
    public static final String TRAINING_CLASS = "dev.drover.worker.runtime.TrainingMain";

    /**
     * What one spawn needs to know about the worker. {@code runJar}: the jar a jar app's worker runs instead of
     * drover.app (the extraction of a Spring Boot jar, made for AppCDS), if there is one yet. {@code spare}: it
     * boots to READY and accepts only once promoted (drover.spare-workers); its id is 0.
     */
    public record Spec(int id, int generation, String secret, long maxRequests, List<Listener> listeners,
                       Optional<Path> cdsArchive, Optional<Path> runJar, boolean spare, boolean standby) {

        public Spec(int id, int generation, String secret, long maxRequests, List<Listener> listeners,
                    Optional<Path> cdsArchive, Optional<Path> runJar, boolean spare) {
            this(id, generation, secret, maxRequests, listeners, cdsArchive, runJar, spare, false);
        }
    }

    /**
     * The variables of a worker's environment that say which worker it is, not what its JVM is: a standby JVM is
     * spawned without them and told them at its adoption (ADOPT); the rest must be the same for a standby to be
     * adopted.
     */
    static final List<String> PER_WORKER = List.of("DROVER_INTERNAL_ID", "DROVER_INTERNAL_GENERATION",
            "DROVER_INTERNAL_SECRET", "DROVER_INTERNAL_APP", "DROVER_INTERNAL_CONFIG", "DROVER_INTERNAL_MAX_REQUESTS",
            "DROVER_INTERNAL_SPARE", "DROVER_INTERNAL_EVIDENCE_BASELINE_MS");

    /**
     * JDK 17 refuses to write an archive while a Java agent runs unless this diagnostic flag is on, and maps such an
     * archive only in a JVM that has it too: a foreign worker's training run and its workers all run the agent. The
     * JVM then warns at each start that the archive is "for testing purposes". What the flag guards against, a
     * class archived as the agent rewrote it and loaded without the agent, cannot happen here: every JVM that maps
     * the archive runs the same agent, and a class the agent rewrites is rewritten again from the jar's bytes.
     */
    static final List<String> ARCHIVE_WITH_AGENT = List.of("-XX:+UnlockDiagnosticVMOptions",
            "-XX:+AllowArchivingWithJavaAgent");

    /**
     * Options of every worker JVM, before the operator's own, each saving boot time: logging set up in code (no XML
     * parsing); Netty's JFR events for buffers off (registering them loads JFR's metadata: ~110 ms); the JDK's
     * selector provider named, so that finding it does not open every jar on the classpath looking for a
     * ServiceLoader entry (with an AppCDS archive, classes come from the archive and the jars need not be opened).
     */
    static final List<String> BUILT_IN_OPTIONS = List.of("-D" + DroverLogConfigurator.PROPERTY + "=worker",
            "-Dio.netty.jfr.enabled=false", "-Djava.nio.channels.spi.SelectorProvider=sun.nio.ch.EPollSelectorProvider",
            // Here and not in reference.conf's worker-jvm-options: a user who sets that list (say to ["-Xmx1g"])
            // replaces the defaults whole and would lose the guard. A JVM that hit OutOfMemoryError is left
            // half-broken (a thread died mid-update, a pool lost its worker), so it exits and the master recycles
            // it (RecycleReason.OOM). worker-jvm-options come later on the command line, so
            // -XX:-ExitOnOutOfMemoryError there turns it off.
            "-XX:+ExitOnOutOfMemoryError");

    /**
     * Starts a worker inside its cgroup: the shell writes its own pid to cgroup.procs ($1) and execs the JVM in its
     * place, so the JVM keeps the pid the JDK started (and signals, reaps and pidfds name it), keeps fd 0 (a foreign
     * worker's listener: the shell never reads it) and touches its first page already charged to the worker's
     * cgroup, where a move after boot would leave everything touched so far charged to the master's. If the write
     * fails the shell exits 2 with its own message on the worker's output, and no JVM starts outside the cgroup.
     */
    static final String JOIN_CGROUP_STEP = "echo $$ > \"$1\" && shift";
    static final String JOIN_CGROUP = JOIN_CGROUP_STEP + " && exec \"$@\"";

    /**
     * Opens the worker directory ($1) on fd 3 for a worker of another user (WorkerDirectory), while the shell is
     * still root: the worker itself could not reach it by its path.
     */
    static final String OPEN_WORKER_DIRECTORY = "exec " + WorkerDirectory.FD + "< \"$1\" && shift";

    /** The master's own java, for Spring Boot's extraction; workers run on drover.java-home (Settings.workerJava). */
    private final Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    private final WorkerDirectory directory;
    private final Path linkSocket;
    private final Optional<Path> nettyNative;
    private final Optional<Cgroups> cgroups;

    /** {@code nettyNative}: the master's copy of Netty's native library (NettyNative), if it has one. */
    public WorkerSpawner(Path linkSocket, Optional<Path> nettyNative) {
        this(WorkerDirectory.shared(linkSocket.getParent()), linkSocket, nettyNative, Optional.empty());
    }

    /**
     * {@code directory}: where the link socket and {@code nettyNative} are, and who the workers run as;
     * {@code cgroups}: where each worker with a hard limit gets its own cgroup (cgroup v2 delegated), if anywhere.
     */
    public WorkerSpawner(WorkerDirectory directory, Path linkSocket, Optional<Path> nettyNative,
                         Optional<Cgroups> cgroups) {
        this.directory = directory;
        this.linkSocket = linkSocket;
        this.nettyNative = nettyNative;
        this.cgroups = cgroups;
    }

    /** {@code file}, in the worker directory, as a worker reaches it (WorkerDirectory). */
    public Path seenByWorker(Path file) {
        return directory.seenByWorker(file);
    }

    /** A started worker, and the cgroup it runs in if it has one of its own. */
    public record Started(Process process, Optional<WorkerCgroup> cgroup) {
    }

    /**
     * Starts a worker; with per-worker cgroups and a hard limit, inside a new cgroup of its own. A cgroup that cannot
     * be made is a warning, and the worker starts without one (sampling still enforces the limits).
     */
    public Started spawn(Spec spec, Settings settings) throws IOException {
        Optional<WorkerCgroup> cgroup = cgroupFor(spec, settings);
        try {
            return new Started(start(spec, settings, cgroup), cgroup);
        } catch (IOException | RuntimeException e) {
            cgroup.ifPresent(WorkerCgroup::remove);
            throw e;
        }
    }

    private Optional<WorkerCgroup> cgroupFor(Spec spec, Settings settings) {
        long hard = settings.memory().hardLimit();
        if (cgroups.isEmpty() || hard <= 0) {
            return Optional.empty();
        }
        try {
            return Optional.of(cgroups.get().create(spec.id(), spec.generation(), hard));
        } catch (IOException e) {
            log.warn("worker {} (gen {}) starts without a cgroup of its own: {}; its hard limit is enforced by "
                    + "sampling only", spec.id(), spec.generation(), e.getMessage());
            return Optional.empty();
        }
    }

    /** {@code command} run by the cgroup-joining shell ({@link #JOIN_CGROUP}). */
    static List<String> joiningCgroup(Path procs, List<String> command) {
        return wrapped(Optional.of(procs), Optional.empty(), Optional.empty(), command);
    }

    /**
     * {@code command} behind what must happen first, as root, each step an exec of the next so that the JVM keeps
     * the pid the JDK started (signals, reaps and pidfds name it) and its fd 0 (a foreign worker's listener): a
     * shell joins the worker's cgroup ({@code procs}) and opens the worker directory on fd 3 ({@code workerDir}),
     * then setpriv takes the workers' credentials ({@code user}) and execs the JVM. A step that fails ends the
     * chain (the shell exits 2 with its message on the worker's output): no JVM starts outside its cgroup or as
     * root.
     */
    static List<String> wrapped(Optional<Path> procs, Optional<Path> workerDir, Optional<Credentials> user,
                                List<String> command) {
        List<String> steps = new ArrayList<>();
        List<String> arguments = new ArrayList<>();
        procs.ifPresent(p -> {
            steps.add(JOIN_CGROUP_STEP);
            arguments.add(p.toString());
        });
        workerDir.ifPresent(d -> {
            steps.add(OPEN_WORKER_DIRECTORY);
            arguments.add(d.toString());
        });
        List<String> wrapped = new ArrayList<>();
        if (!steps.isEmpty()) {
            steps.add("exec \"$@\"");
            wrapped.addAll(List.of("/bin/sh", "-c", String.join(" && ", steps), "sh"));
            wrapped.addAll(arguments);
        }
        user.ifPresent(u -> wrapped.addAll(u.setpriv()));
        wrapped.addAll(command);
        return wrapped;
    }

    /**
     * What a standby JVM of {@code settings} would be started as (drover.standby-jvms): its command line, the
     * environment that is not per worker, its listening sockets, its memory cgroup. A standby is adopted only by a
     * spawn of settings with the same key, so that the worker it becomes is the JVM a spawn would have started.
     * Empty for a jar or main-class app: its JVM runs the app from its start.
     */
    public Optional<String> standbyKey(Settings settings, List<Listener> listeners) {
        if (settings.foreign()) {
            return Optional.empty();
        }
        Map<String, String> env = new TreeMap<>();
        environment(env, new Spec(0, 0, "-", 0, listeners, Optional.empty(), Optional.empty(), false, true), settings);
        PER_WORKER.forEach(env::remove);
        return Optional.of(String.join(" ", standbyCommand(settings)) + "\n" + env + "\nlisteners "
                + listeners.stream().map(l -> l.kind() + ":" + l.fd()).toList() + "\nhard-limit "
                + (cgroups.isPresent() ? settings.memory().hardLimit() : 0));
    }

    /**
     * ADOPT for a standby that is to become the worker {@code spec} of {@code settings}: which worker it is and where
     * its app is. Empty if a value cannot travel on the control link (a path with a space): then it is spawned.
     */
    public Optional<LinkMessage> adoption(Spec spec, Settings settings) {
        List<String> jars = AppClasspath.appJars(settings.classpath());
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("id", Integer.toString(spec.id()));
        fields.put("generation", Integer.toString(spec.generation()));
        fields.put("app", settings.app());
        fields.put("max_requests", Long.toString(spec.maxRequests()));
        fields.put("spare", spec.spare() ? "1" : "0");
        if (!jars.isEmpty()) {
            fields.put("classpath", String.join(File.pathSeparator, jars));
        }
        settings.configFile().ifPresent(f -> fields.put("config", f.toAbsolutePath().toString()));
        if (settings.memory().softLimit() > 0 || settings.memory().hardLimit() > 0) {
            fields.put("evidence_baseline_ms", Long.toString(settings.leakReports().baselineAfter().toMillis()));
        }
        if (!fields.values().stream().allMatch(LinkMessage::isToken)) {
            return Optional.empty();
        }
        LinkMessage.Builder adopt = LinkMessage.of(LinkMessage.Type.ADOPT);
        fields.forEach(adopt::put);
        return Optional.of(adopt.build());
    }

    /** A standby's command: the workers' JVM and Drover's runtime, no app and no AppCDS archive (it is the app's). */
    private static List<String> standbyCommand(Settings settings) {
        List<String> command = jvm(settings);
        command.addAll(List.of("-cp", AppClasspath.runtimeClasspath(), MAIN_CLASS));
        return command;
    }

    private Process start(Spec spec, Settings settings, Optional<WorkerCgroup> cgroup) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(wrapped(cgroup.map(WorkerCgroup::procs),
                directory.owner().map(u -> directory.path()), directory.owner(),
                spec.standby() ? standbyCommand(settings) : workerCommand(spec, settings))).redirectErrorStream(true);
        environment(builder.environment(), spec, settings);
        if (spec.standby()) {
            // Which worker it becomes, it is told at ADOPT; until then it is no slot's and no generation's.
            PER_WORKER.forEach(builder.environment()::remove);
            builder.environment().put("DROVER_INTERNAL_ID", "0");
            builder.environment().put("DROVER_INTERNAL_GENERATION", "0");
            builder.environment().put("DROVER_INTERNAL_SECRET", spec.secret());
            builder.environment().put("DROVER_INTERNAL_STANDBY", "1");
        }
        if (spec.standby() || !settings.foreign()) {
            return builder.start();
        }
        return StdinSocket.start(builder, onlyTcpListener(spec).fd());
    }

    /** A worker's command: the JVM, the agent and archive it runs with, and the app (native or foreign). */
    private static List<String> workerCommand(Spec spec, Settings settings) {
        List<String> command = jvm(settings);
        if (settings.foreign()) {
            command.add("-javaagent:" + AppClasspath.agentJar());
            spec.cdsArchive().ifPresent(archive -> command.addAll(ARCHIVE_WITH_AGENT));
        }
        spec.cdsArchive().ifPresent(archive -> command.addAll(CdsArchive.Kind.of(settings).use(archive)));
        command.addAll(settings.foreign() ? foreignApp(settings, spec.runJar()) : List.of("-cp",
                AppClasspath.workerClasspath(settings), MAIN_CLASS));
        return command;
    }

    /**
     * {@code -jar APP ARGS} or {@code -cp CLASSPATH MAIN ARGS}, as the app would be started by hand; {@code runJar}
     * in place of APP if given.
     */
    static List<String> foreignApp(Settings settings, Optional<Path> runJar) {
        List<String> command = new ArrayList<>();
        if (settings.appKind() == AppKind.JAR) {
            command.add("-jar");
            command.add(runJar.map(Path::toString).orElse(settings.app()));
        } else {
            command.add("-cp");
            command.add(String.join(File.pathSeparator, AppClasspath.entries(settings.classpath())));
            command.add(settings.app());
        }
        command.addAll(settings.appArgs());
        return command;
    }

    /** AppCheck and the bind check let a foreign app have one TCP socket only; anything else is a bug here. */
    private static Listener onlyTcpListener(Spec spec) {
        if (spec.listeners().size() != 1 || !spec.listeners().get(0).kind().equals("tcp")) {
            throw new IllegalStateException("a jar or main-class worker needs exactly one TCP listener, got "
                    + spec.listeners().stream().map(Listener::display).toList());
        }
        return spec.listeners().get(0);
    }

    private void environment(Map<String, String> env, Spec spec, Settings settings) {
        childEnvironment(env);
        env.put("DROVER_INTERNAL_ID", Integer.toString(spec.id()));
        env.put("DROVER_INTERNAL_GENERATION", Integer.toString(spec.generation()));
        env.put("DROVER_INTERNAL_SECRET", spec.secret());
        env.put("DROVER_INTERNAL_LINK", seenByWorker(linkSocket).toString());
        env.put("DROVER_INTERNAL_LISTENERS", String.join(",", spec.listeners().stream().map(Listener::kind).toList()));
        env.put("DROVER_INTERNAL_APP", settings.app());
        env.put("DROVER_INTERNAL_CONFIG", settings.configFile().map(p -> p.toAbsolutePath().toString()).orElse(""));
        env.put("DROVER_INTERNAL_MASTER_PID", Long.toString(ProcessHandle.current().pid()));
        env.put("DROVER_INTERNAL_MAX_REQUESTS", Long.toString(spec.maxRequests()));
        if (spec.spare()) {
            env.put("DROVER_INTERNAL_SPARE", "1");
        }
        env.putAll(settings.http().workerEnvironment());
        nettyNative.ifPresent(lib -> env.put("DROVER_INTERNAL_NETTY_NATIVE", seenByWorker(lib).toString()));
        if (settings.memory().softLimit() > 0 || settings.memory().hardLimit() > 0) {
            // Memory limits mean memory recycles, and so leak reports: the worker takes its baseline histogram then.
            env.put("DROVER_INTERNAL_EVIDENCE_BASELINE_MS", Long.toString(settings.leakReports().baselineAfter().toMillis()));
        }
        warmupEnvironment(env, settings);
        if (settings.foreign()) {
            // The agent loads the worker's link side from these jars in a loader of its own, apart from the app's.
            env.put("DROVER_INTERNAL_RUNTIME_CLASSPATH", AppClasspath.runtimeJars());
        }
    }

    private static void warmupEnvironment(Map<String, String> env, Settings settings) {
        if (settings.warmup().enabled()) {
            env.put("DROVER_INTERNAL_WARMUP_REQUESTS", Integer.toString(settings.warmup().count()));
            env.put("DROVER_INTERNAL_WARMUP_PATHS", String.join("\n", settings.warmup().requests()));
            env.put("DROVER_INTERNAL_WARMUP_TIME_LIMIT_MS", Long.toString(settings.warmup().timeLimit().toMillis()));
        }
    }

    /**
     * The AppCDS training run: the app in a JVM like a worker's, which writes the classes it loaded to
     * {@code archive} when it exits. A DroverApp runs under dev.drover.worker.runtime.TrainingMain; a jar or
     * main-class app as its worker would ({@code runJar} as in {@link Spec}), see {@link #trainForeign}.
     */
    public Process train(Settings settings, Optional<Path> runJar, Path archive) throws IOException {
        List<String> command = jvm(settings);
        if (settings.foreign()) {
            command.add("-javaagent:" + AppClasspath.agentJar());
            command.addAll(ARCHIVE_WITH_AGENT);
        }
        command.addAll(CdsArchive.Kind.of(settings).train(archive));
        if (settings.foreign()) {
            command.addAll(foreignApp(settings, runJar));
            return trainForeign(new ProcessBuilder(asWorkersUser(command)).redirectErrorStream(true), settings);
        }
        command.add("-cp");
        command.add(AppClasspath.workerClasspath(settings));
        command.add(TRAINING_CLASS);
        command.add(settings.app());
        settings.configFile().ifPresent(f -> command.add(f.toAbsolutePath().toString()));
        ProcessBuilder builder = new ProcessBuilder(asWorkersUser(command)).redirectErrorStream(true);
        childEnvironment(builder.environment());
        return builder.start();
    }

    /**
     * A foreign app's training run: its server starts on a listener of its own on fd 0, bound to 127.0.0.1:0 here
     * and closed in the master once the JVM has its copy, so the service's socket is never touched and nobody is
     * expected to connect. DROVER_INTERNAL_TRAINING tells the agent to open its accept gate once the app is ready
     * (the accept path's classes load too), then exit 0: the JVM writes the archive as it exits. No link, no secret:
     * the run is not a worker.
     */
    private Process trainForeign(ProcessBuilder builder, Settings settings) throws IOException {
        childEnvironment(builder.environment());
        builder.environment().put("DROVER_INTERNAL_TRAINING", "1");
        builder.environment().put("DROVER_INTERNAL_APP", settings.app());
        // The agent runs the warm-up before it exits, as a worker does before READY: the request path's classes
        // (the servlet stack, the app's controllers) then come from the archive too.
        warmupEnvironment(builder.environment(), settings);
        Epoll.ensureAvailability();
        Socket listener = Socket.newSocketStream();
        try {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            listener.listen(16);
            return StdinSocket.start(builder, listener.intValue());
        } finally {
            listener.close();
        }
    }

    /**
     * Spring Boot's own extraction of a fat jar ({@code -Djarmode=tools}, 3.3 and later) into {@code destination}:
     * the jar of the app's classes, with the libraries in lib/ beside it on its manifest Class-Path.
     */
    public Process extract(Path fatJar, Path destination) throws IOException {
        List<String> command = List.of(java.toString(), "-Djarmode=tools", "-jar", fatJar.toString(), "extract",
                "--destination", destination.toString());
        ProcessBuilder builder = new ProcessBuilder(asWorkersUser(command)).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        childEnvironment(builder.environment());
        return builder.start();
    }

    /**
     * {@code command} run as the workers' user, for the children that are not workers but run the app's code (the
     * AppCDS training run, Spring Boot's extraction): none of the app's code runs as root.
     */
    private List<String> asWorkersUser(List<String> command) {
        return wrapped(Optional.empty(), Optional.empty(), directory.owner(), command);
    }

    /**
     * What every child's environment loses and gains: systemd's variables go, and so does the hand-over of an upgrade
     * in place (it is the master's, and may name fds); a child of another user gets its
     * HOME, USER and LOGNAME (setpriv changes none of them, and an app that writes to $HOME would try root's).
     */
    private void childEnvironment(Map<String, String> env) {
        SystemdEnvironment.scrub(env);
        env.remove(UpgradeState.VARIABLE);
        directory.owner().ifPresent(u -> {
            env.put("HOME", u.home());
            env.put("USER", u.user());
            env.put("LOGNAME", u.user());
        });
    }

    /**
     * The java binary and the options every worker JVM gets: Drover's own first, so that the operator's
     * {@code worker-jvm-options} come later and win (for a -D, the last one counts).
     */
    private static List<String> jvm(Settings settings) {
        List<String> command = new ArrayList<>();
        command.add(settings.workerJava().java().toString());
        command.addAll(options(settings));
        return command;
    }

    /** The options of every worker JVM (and training run) of these settings; an archive's name covers them. */
    static List<String> options(Settings settings) {
        List<String> options = new ArrayList<>(BUILT_IN_OPTIONS);
        options.addAll(settings.workerJava().options());
        options.addAll(WorkerMemory.guards(settings.memory().hardLimit(), settings.workerJvmOptions()));
        options.addAll(settings.workerJvmOptions());
        return options;
    }
}
