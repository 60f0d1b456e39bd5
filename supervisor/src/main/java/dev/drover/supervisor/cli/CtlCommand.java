package dev.drover.supervisor.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigSyntax;
import dev.drover.link.ExitCodes;
import dev.drover.supervisor.config.ConfigError;
import dev.drover.supervisor.config.ConfigLoader;
import dev.drover.supervisor.config.ConfigSources;
import dev.drover.supervisor.config.Settings;
import dev.drover.supervisor.metrics.Health;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `drover ctl COMMAND`: sends one command to a running master over its control socket and prints the answer. */
@Command(name = "ctl", mixinStandardHelpOptions = true,
        description = "Talk to a running master. Commands: status [--json], health [--json], reload, upgrade, stop [--quick], incr, decr, "
                + "scale N, recycle ID, reopen-logs, pause, leaks [REPORT] [--json], snapshot ID [--json], "
                + "heapdump ID PATH. See docs/signals.md.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done (reload: the new generation is serving; upgrade: the new master serves, the old workers are gone)", "1:the master could not be reached",
            "2:refused or failed, nothing changed (reload: invalid configuration, or its canary could not boot; upgrade: the new installation's configuration check failed)",
            "3:the outcome is not known yet (reload: its canary is still booting; see status)",
            "health: 0 ready, 1 alive but not ready, 3 not alive (stuck, or not reachable)"})
public final class CtlCommand implements Callable<Integer> {

    /** Exit code of a command whose outcome is not known yet: a reload whose canary is still booting. */
    static final int PENDING = 3;

    @Option(names = {"-p", "--pid"}, paramLabel = "PIDFILE", description = "The master's pidfile; its control socket is PIDFILE.ctl/control.sock.")
    Path pidfile;

    @Option(names = {"-s", "--socket"}, paramLabel = "PATH", description = "The master's control socket.")
    Path socket;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "The master's configuration file (for its control-socket or pidfile).")
    Path config;

    @Option(names = "--json", description = "Print the master's answer as JSON.")
    boolean json;

    @Option(names = "--quick", description = "With stop: a quick stop (as INT) instead of a graceful one.")
    boolean quick;

    @Parameters(arity = "1..3", paramLabel = "COMMAND", description = "A command and its arguments, e.g. status, scale 4, heapdump 2 /tmp/w2.hprof.")
    List<String> words;

    @Override
    public Integer call() {
        String command = String.join(" ", words) + (quick ? " --quick" : "");
        try {
            dev.drover.supervisor.arbiter.Command.parse(command);
        } catch (IllegalArgumentException e) {
            System.err.println("drover ctl: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        Optional<Path> path;
        try {
            path = socketPath();
        } catch (ConfigError e) {
            e.problems().forEach(p -> System.err.println("drover ctl: " + p));
            return ExitCodes.USAGE;
        }
        if (path.isEmpty()) {
            System.err.println("drover ctl: which master? (expected: -p PIDFILE, -s SOCKET, or -c FILE with "
                    + "drover.pidfile or drover.control-socket set)");
            return ExitCodes.USAGE;
        }
        if (command.equals("upgrade")) {
            return new UpgradeClient(path.get()).run();
        }
        String answer;
        boolean health = command.equals("health");
        try {
            answer = ask(path.get(), command);
        } catch (IOException e) {
            System.err.println("drover ctl: cannot reach the master at " + path.get() + ": " + e.getMessage()
                    + " (is it running?)");
            return health ? Health.EXIT_NOT_ALIVE : ExitCodes.INTERNAL_ERROR;
        }
        if (answer.isEmpty()) {
            System.err.println("drover ctl: the master at " + path.get() + " closed the connection without an answer "
                    + "(is it stopping?)");
            return ExitCodes.INTERNAL_ERROR;
        }
        Config reply = ConfigFactory.parseString(answer, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
        if (reply.hasPath("error")) {
            System.err.println("drover ctl: " + reply.getString("error"));
            return ExitCodes.USAGE;
        }
        if (reply.hasPath("pending")) {
            System.err.println("drover ctl: " + reply.getString("pending"));
            return PENDING;
        }
        if (reply.hasPath("health")) {
            return health(reply.getConfig("health"), answer);
        }
        if (json) {
            System.out.println(reply.hasPath("report") ? reply.getValue("report").render(ConfigRenderOptions.concise())
                    : answer);
        } else if (reply.hasPath("ok")) {
            System.out.println(reply.getString("ok"));
        } else if (reply.hasPath("leaks")) {
            System.out.print(LeakTables.list(reply));
        } else if (reply.hasPath("text")) {
            System.out.print(reply.getString("text"));
        } else if (reply.hasPath("snapshot")) {
            System.out.print(LeakTables.snapshot(reply));
        } else {
            System.out.println(StatusTable.render(reply));
        }
        return ExitCodes.OK;
    }

    /** `ctl health`: its line (or JSON), and an exit code an exec probe can act on (see Health). */
    private int health(Config health, String answer) {
        System.out.println(json ? answer : health.getString("reason"));
        return health.getBoolean("ready") ? Health.EXIT_READY
                : health.getBoolean("alive") ? Health.EXIT_NOT_READY : Health.EXIT_NOT_ALIVE;
    }

    private Optional<Path> socketPath() throws ConfigError {
        if (socket != null) {
            return Optional.of(socket);
        }
        if (pidfile != null) {
            return Optional.of(Settings.controlSocketFor(pidfile));
        }
        if (config != null) {
            return ConfigLoader.load(new ConfigSources(Optional.of(config), Map.of(), List.of(
                    new ConfigSources.Flag("drover.app", "ctl.Unused", "drover ctl")))).controlSocketPath();
        }
        return Optional.empty();
    }

    static String ask(Path socket, String command) throws IOException {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8)));
            return new String(Channels.newInputStream(channel).readAllBytes(), StandardCharsets.UTF_8).trim();
        }
    }
}
