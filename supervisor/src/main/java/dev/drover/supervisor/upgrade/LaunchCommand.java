package dev.drover.supervisor.upgrade;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line that starts a master from the installation on disk now, for an upgrade in place: the launcher
 * (scripts/drover in a checkout, bin/drover in a release archive) passes its own path as -Ddrover.launcher, and is
 * run again with the master's original arguments, so it re-resolves java, the jars and the JVM options of whatever
 * is installed there now, and execs the JVM under the same pid. A master started without a launcher gets its own
 * java command line again (/proc/self/cmdline), which only picks up new jars at the same paths.
 */
public final class LaunchCommand {

    /** The system property a launcher sets to its own absolute path. */
    public static final String LAUNCHER_PROPERTY = "drover.launcher";

    private LaunchCommand() {
    }

    /** argv for a master with {@code args} (the arguments after the program); argv[0] is an absolute path. */
    public static List<String> resolve(List<String> args) throws IOException {
        String launcher = System.getProperty(LAUNCHER_PROPERTY);
        List<String> argv = new ArrayList<>();
        if (launcher != null && !launcher.isEmpty()) {
            Path path = Path.of(launcher).toAbsolutePath();
            if (!Files.isExecutable(path)) {
                throw new IOException("the launcher " + path + " (-D" + LAUNCHER_PROPERTY + ") is not an executable "
                        + "file any more");
            }
            argv.add(path.toString());
            argv.addAll(args);
            return argv;
        }
        String[] own = Files.readString(Path.of("/proc/self/cmdline"), StandardCharsets.UTF_8).split("\0");
        argv.add(ProcessHandle.current().info().command().orElseThrow(() -> new IOException(
                "cannot tell which java runs this master (/proc/self/exe)")));
        argv.addAll(List.of(own).subList(1, own.length));
        return argv;
    }

    /** The same command with --check-config in front of the arguments: validates and exits 0, 2 or 4. */
    public static List<String> check(List<String> argv) {
        List<String> check = new ArrayList<>(argv);
        int firstArgument = System.getProperty(LAUNCHER_PROPERTY, "").isEmpty()
                ? check.indexOf("dev.drover.supervisor.cli.Main") + 1 : 1;
        check.add(firstArgument, "--check-config");
        return check;
    }
}
