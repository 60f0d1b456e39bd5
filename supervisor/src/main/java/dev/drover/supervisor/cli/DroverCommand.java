package dev.drover.supervisor.cli;

import dev.drover.supervisor.os.Credentials;
import dev.drover.link.ExitCodes;
import dev.drover.supervisor.Master;
import dev.drover.supervisor.arbiter.Upgrade;
import dev.drover.supervisor.upgrade.UpgradeState;
import dev.drover.supervisor.config.AppCheck;
import dev.drover.supervisor.config.CapacityCheck;
import dev.drover.supervisor.config.ConfigError;
import dev.drover.supervisor.config.ConfigLoader;
import dev.drover.supervisor.config.ConfigSources;
import dev.drover.supervisor.config.Settings;
import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * `drover [OPTIONS] [APP]`: Gunicorn's flag names. Flags only collect what the user typed; the values are checked
 * with everything else by {@link ConfigLoader}, so a bad flag gets the same message as a bad line in a file.
 * picocli: it gives Gunicorn-style short and long flags, subcommands and usage errors (exit 2) without hand parsing.
 */
@Command(name = "drover", mixinStandardHelpOptions = true, versionProvider = DroverCommand.Version.class,
        subcommands = CtlCommand.class, sortOptions = false,
        description = "Runs a Java service as N worker JVMs sharing one listening socket, supervised by this master.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:stopped cleanly, or the configuration is valid", "1:internal error",
            "2:bad configuration, flags or command; nothing was started", "3:a worker failed to boot at startup",
            "4:the app failed to load at startup, or Drover cannot drive its server (the reason is printed)"})
public final class DroverCommand implements Callable<Integer> {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "HOCON configuration file (settings under drover { }).")
    Path config;

    @Option(names = {"-b", "--bind"}, paramLabel = "ADDRESS", description = "Address to listen on, repeatable: HOST:PORT, [IPv6]:PORT, unix:PATH, fd://N.")
    List<String> bind;

    @Option(names = {"-w", "--workers"}, paramLabel = "N", description = "Number of worker JVMs, or auto (one per CPU of the container, as its memory allows).")
    String workers;

    @Option(names = "--graceful-timeout", paramLabel = "DURATION", description = "Time workers get to finish requests on a graceful stop, e.g. 30s.")
    String gracefulTimeout;

    @Option(names = "--shutdown-delay", paramLabel = "DURATION", description = "On TERM, serve on this long (readiness 503) before the graceful stop, e.g. 5s.")
    String shutdownDelay;

    @Option(names = {"-p", "--pid"}, paramLabel = "FILE", description = "Write the master's pid to FILE.")
    String pidfile;

    @Option(names = {"-u", "--user"}, paramLabel = "USER", description = "Run the workers as USER (the master must be root; it keeps what it bound).")
    String user;

    @Option(names = {"-g", "--group"}, paramLabel = "GROUP", description = "Run the workers with GROUP as their group (default: the user's primary group).")
    String group;

    @Option(names = "--log-file", paramLabel = "FILE", description = "Log to FILE instead of stdout; USR1 reopens it.")
    String logFile;

    @Option(names = "--classpath", paramLabel = "PATHS", description = "The app's jars and directories, separated by ':' (a DroverApp's, or a main class's; not for a jar app).")
    String classpath;

    @Option(names = "--app-arg", paramLabel = "ARG", description = "An argument to a jar's or main class's main(), "
            + "repeatable, in order; replaces drover.app-args. Write --app-arg=--name=value for one that starts with -.")
    List<String> appArgs;

    @Option(names = "--max-requests", paramLabel = "N", description = "Recycle a worker after N requests (0 = never).")
    String maxRequests;

    @Option(names = "--max-requests-jitter", paramLabel = "N", description = "Add a random 0..N to each worker's max-requests.")
    String maxRequestsJitter;

    @Option(names = "--max-lifetime", paramLabel = "DURATION", description = "Recycle a worker after it has lived this long (0 = never).")
    String maxLifetime;

    @Option(names = "--warmup-requests", paramLabel = "N", description = "Requests each new worker runs against itself before READY (0 = off).")
    String warmupRequests;

    @Option(names = "--metrics-bind", paramLabel = "ADDRESS", description = "Serve /metrics, /healthz and /readyz here (HOST:PORT or unix:PATH).")
    String metricsBind;

    @Option(names = "--max-surge", paramLabel = "N", description = "How many replacements may boot at once during recycles.")
    String maxSurge;

    @Option(names = "--spare-workers", paramLabel = "N", description = "Booted workers that wait, not accepting, to "
            + "replace a crashed or recycled worker at once (0 = none).")
    String spareWorkers;

    @Option(names = "--standby-jvms", paramLabel = "N", description = "JVMs booted without the app that the next "
            + "new workers (a reload's among them) take instead of a JVM boot; DroverApp apps only (0 = none).")
    String standbyJvms;

    @Option(names = "--reload-surge", paramLabel = "N|all", description = "How many of a reload's new workers may boot "
            + "at once once its canary serves (all: every remaining one).")
    String reloadSurge;

    @Option(names = "--reload-canary", paramLabel = "together|alone", description = "Whether the rest of a reload's "
            + "new generation boots beside its canary (together) or once the canary is READY (alone).")
    String reloadCanary;

    @Option(names = "--serving-nice", paramLabel = "N", description = "The nice value serving workers run at above "
            + "the master (0: the master's); booting workers and the master then come first.")
    String servingNice;

    @Option(names = "--boot-nice", paramLabel = "N", description = "The nice value a booting worker runs at above the "
            + "serving workers, until READY (0: off).")
    String bootNice;

    @Option(names = {"-t", "--timeout"}, paramLabel = "DURATION", description = "A worker whose event loops are stuck this long (a jar app: a request running this long) is killed, after a thread dump.")
    String timeout;

    @Option(names = "--boot-timeout", paramLabel = "DURATION", description = "A worker not ready this long after its spawn is killed.")
    String bootTimeout;

    @Option(names = "--memory-soft-limit", paramLabel = "SIZE", description = "Recycle a worker that stays above SIZE, e.g. 512M (0 = off).")
    String memorySoftLimit;

    @Option(names = "--memory-hard-limit", paramLabel = "SIZE", description = "Kill a worker at once above SIZE (0 = off).")
    String memoryHardLimit;

    @Option(names = "--java-home", paramLabel = "DIR", description = "The Java runtime (JDK or JRE directory) the workers run on; default: the master's.")
    String javaHome;

    @Option(names = "--check-config", description = "Validate the configuration and exit: 0 if valid, 2 if not.")
    boolean checkConfig;

    /** The arguments this command was run with, as typed: an upgrade in place runs the master again with them. */
    static volatile List<String> arguments = List.of();

    @Parameters(arity = "0..1", paramLabel = "APP", description = "The app: an executable jar (my-service.jar, Spring "
            + "Boot's included), a class implementing dev.drover.worker.api.DroverApp, or a main class on --classpath.")
    String app;

    /**
     * The build's version, from the jar's manifest (Implementation-Version, written by the build from the pom), and
     * the Java it runs on, which is also the workers' (they start with java.home's bin/java).
     */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = DroverCommand.class.getPackage().getImplementationVersion();
            return new String[] {"drover " + (version == null ? "(version unknown: not run from supervisor.jar)"
                    : version), "java " + System.getProperty("java.runtime.version") + " ("
                    + System.getProperty("java.vendor") + ") at " + System.getProperty("java.home")};
        }
    }

    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new DroverCommand());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("drover: internal error: " + e);
            e.printStackTrace(commandLine.getErr());
            return ExitCodes.INTERNAL_ERROR;
        });
        cli.setParameterExceptionHandler((e, args) -> {
            var err = e.getCommandLine().getErr();
            err.println(e.getCommandLine().getCommandName() + ": " + e.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
            err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help' for usage.");
            return ExitCodes.USAGE;
        });
        return cli;
    }

    @Override
    public Integer call() throws InterruptedException {
        Settings settings;
        try {
            settings = AppCheck.verify(ConfigLoader.load(sources()));
        } catch (AppCheck.Refused e) {
            return refuse(e);
        } catch (ConfigError e) {
            return report(e);
        }
        if (checkConfig) {
            try {
                Credentials.resolve(settings);
            } catch (ConfigError e) {
                return report(e);
            }
            CapacityCheck.warnings(settings).forEach(warning -> System.err.println("drover: warning: " + warning));
            System.out.println("drover: configuration OK (" + settings.workers() + " worker(s) of " + settings.appLabel()
                    + " on " + settings.bind() + ")");
            return ExitCodes.OK;
        }
        try {
            ConfigSources sources = sources();
            Optional<UpgradeState> inherited = UpgradeState.from(System.getenv());
            Upgrade.Launch launch = new Upgrade.Launch(arguments, System.getenv(),
                    inherited.map(UpgradeState::upgrades).orElse(0));
            return new Master(() -> AppCheck.verify(ConfigLoader.load(sources)), launch, inherited).run(settings);
        } catch (ConfigError e) {
            return report(e);
        }
    }

    private static int report(ConfigError e) {
        e.problems().forEach(problem -> System.err.println("drover: " + problem));
        return ExitCodes.USAGE;
    }

    /** The app's server cannot be driven: exit 4, with the reason (a configuration error would be exit 2). */
    private static int refuse(AppCheck.Refused e) {
        e.problems().forEach(problem -> System.err.println("drover: " + problem));
        return ExitCodes.APP_LOAD_ERROR;
    }

    ConfigSources sources() {
        List<ConfigSources.Flag> flags = new ArrayList<>();
        if (bind != null) {
            flags.add(new ConfigSources.Flag("drover.bind", bind, "flag -b/--bind"));
        }
        add(flags, "workers", workers, "flag -w/--workers");
        add(flags, "graceful-timeout", gracefulTimeout, "flag --graceful-timeout");
        add(flags, "shutdown-delay", shutdownDelay, "flag --shutdown-delay");
        add(flags, "pidfile", pidfile, "flag -p/--pid");
        add(flags, "app", app, "argument APP");
        add(flags, "log-file", logFile, "flag --log-file");
        add(flags, "user", user, "flag -u/--user");
        add(flags, "group", group, "flag -g/--group");
        if (appArgs != null) {
            flags.add(new ConfigSources.Flag("drover.app-args", appArgs, "flag --app-arg"));
        }
        add(flags, "max-requests", maxRequests, "flag --max-requests");
        add(flags, "max-requests-jitter", maxRequestsJitter, "flag --max-requests-jitter");
        add(flags, "max-lifetime", maxLifetime, "flag --max-lifetime");
        add(flags, "max-surge", maxSurge, "flag --max-surge");
        add(flags, "spare-workers", spareWorkers, "flag --spare-workers");
        add(flags, "standby-jvms", standbyJvms, "flag --standby-jvms");
        add(flags, "reload-surge", reloadSurge, "flag --reload-surge");
        add(flags, "reload-canary", reloadCanary, "flag --reload-canary");
        add(flags, "boot-nice", bootNice, "flag --boot-nice");
        add(flags, "serving-nice", servingNice, "flag --serving-nice");
        add(flags, "metrics.bind", metricsBind, "flag --metrics-bind");
        add(flags, "warmup.requests", warmupRequests, "flag --warmup-requests");
        add(flags, "timeout", timeout, "flag -t/--timeout");
        add(flags, "boot-timeout", bootTimeout, "flag --boot-timeout");
        add(flags, "memory.soft-limit", memorySoftLimit, "flag --memory-soft-limit");
        add(flags, "memory.hard-limit", memoryHardLimit, "flag --memory-hard-limit");
        add(flags, "java-home", javaHome, "flag --java-home");
        if (classpath != null) {
            flags.add(new ConfigSources.Flag("drover.classpath",
                    Arrays.stream(classpath.split(File.pathSeparator)).filter(s -> !s.isEmpty()).toList(),
                    "flag --classpath"));
        }
        return new ConfigSources(Optional.ofNullable(config), System.getenv(), flags);
    }

    private static void add(List<ConfigSources.Flag> flags, String key, String value, String name) {
        if (value != null) {
            flags.add(new ConfigSources.Flag("drover." + key, value, name));
        }
    }
}
