package dev.drover.supervisor.cli;

import dev.drover.link.ExitCodes;
import dev.drover.supervisor.Master;
import dev.drover.supervisor.config.AppCheck;
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
@Command(name = "drover", mixinStandardHelpOptions = true, version = "drover 0.1.0",
        subcommands = CtlCommand.class, sortOptions = false,
        description = "Runs a Java service as N worker JVMs sharing one listening socket, supervised by this master.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:stopped cleanly, or the configuration is valid", "1:internal error",
            "2:bad configuration, flags or command; nothing was started", "3:a worker failed to boot at startup",
            "4:the app failed to load at startup"})
public final class DroverCommand implements Callable<Integer> {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "HOCON configuration file (settings under drover { }).")
    Path config;

    @Option(names = {"-b", "--bind"}, paramLabel = "ADDRESS", description = "Address to listen on, repeatable: HOST:PORT, [IPv6]:PORT, unix:PATH, fd://N.")
    List<String> bind;

    @Option(names = {"-w", "--workers"}, paramLabel = "N", description = "Number of worker JVMs.")
    String workers;

    @Option(names = "--graceful-timeout", paramLabel = "DURATION", description = "Time workers get to finish requests on a graceful stop, e.g. 30s.")
    String gracefulTimeout;

    @Option(names = {"-p", "--pid"}, paramLabel = "FILE", description = "Write the master's pid to FILE.")
    String pidfile;

    @Option(names = "--classpath", paramLabel = "PATHS", description = "The app's jars and directories, separated by ':'.")
    String classpath;

    @Option(names = "--check-config", description = "Validate the configuration and exit: 0 if valid, 2 if not.")
    boolean checkConfig;

    @Parameters(arity = "0..1", paramLabel = "APP", description = "The app's class (implements dev.drover.worker.api.DroverApp).")
    String app;

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
            settings = ConfigLoader.load(sources());
            AppCheck.verify(settings);
        } catch (ConfigError e) {
            return report(e);
        }
        if (checkConfig) {
            System.out.println("drover: configuration OK (" + settings.workers() + " worker(s) of " + settings.app()
                    + " on " + settings.bind() + ")");
            return ExitCodes.OK;
        }
        try {
            return new Master().run(settings);
        } catch (ConfigError e) {
            return report(e);
        }
    }

    private static int report(ConfigError e) {
        e.problems().forEach(problem -> System.err.println("drover: " + problem));
        return ExitCodes.USAGE;
    }

    ConfigSources sources() {
        List<ConfigSources.Flag> flags = new ArrayList<>();
        if (bind != null) {
            flags.add(new ConfigSources.Flag("drover.bind", bind, "flag -b/--bind"));
        }
        add(flags, "workers", workers, "flag -w/--workers");
        add(flags, "graceful-timeout", gracefulTimeout, "flag --graceful-timeout");
        add(flags, "pidfile", pidfile, "flag -p/--pid");
        add(flags, "app", app, "argument APP");
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
