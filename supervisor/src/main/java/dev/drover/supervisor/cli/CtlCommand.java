package dev.drover.supervisor.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import dev.drover.link.ExitCodes;
import dev.drover.supervisor.config.ConfigError;
import dev.drover.supervisor.config.ConfigLoader;
import dev.drover.supervisor.config.ConfigSources;
import dev.drover.supervisor.config.Settings;
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
        description = "Talk to a running master. Commands: status (a table of workers; --json for JSON).")
public final class CtlCommand implements Callable<Integer> {

    /** The commands a master answers; the master checks again and answers an error for anything else. */
    static final List<String> COMMANDS = List.of("status");

    @Option(names = {"-p", "--pid"}, paramLabel = "PIDFILE", description = "The master's pidfile; its control socket is PIDFILE.ctl/control.sock.")
    Path pidfile;

    @Option(names = {"-s", "--socket"}, paramLabel = "PATH", description = "The master's control socket.")
    Path socket;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "The master's configuration file (for its control-socket or pidfile).")
    Path config;

    @Option(names = "--json", description = "Print the master's answer as JSON.")
    boolean json;

    @Parameters(arity = "1", paramLabel = "COMMAND", description = "One of: status.")
    String command;

    @Override
    public Integer call() {
        if (!COMMANDS.contains(command)) {
            System.err.println("drover ctl: unknown command \"" + command + "\" (expected one of: "
                    + String.join(", ", COMMANDS) + ")");
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
        String answer;
        try {
            answer = ask(path.get(), command);
        } catch (IOException e) {
            System.err.println("drover ctl: cannot reach the master at " + path.get() + ": " + e.getMessage()
                    + " (is it running?)");
            return ExitCodes.INTERNAL_ERROR;
        }
        Config reply = ConfigFactory.parseString(answer, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
        if (reply.hasPath("error")) {
            System.err.println("drover ctl: " + reply.getString("error"));
            return ExitCodes.USAGE;
        }
        System.out.println(json ? answer : StatusTable.render(reply));
        return ExitCodes.OK;
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
