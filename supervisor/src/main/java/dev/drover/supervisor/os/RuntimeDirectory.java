package dev.drover.supervisor.os;

import dev.drover.supervisor.config.PathErrors;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's private runtime directory (the workers' link socket, the shared copy of Netty's library, their
 * evidence files, the default control socket): one per master in a per-user base directory, removed at exit. A master
 * killed with SIGKILL cannot remove its own, so each start removes those of masters that are provably gone. The
 * proof needs no wall clock (which NTP may step): a directory's name carries its master's pid, the boot it ran in
 * and its start time in clock ticks since that boot, which together name one process for ever.
 */
public final class RuntimeDirectory {

    private static final Logger log = LoggerFactory.getLogger(RuntimeDirectory.class);
    private static final Pattern NAME = Pattern.compile("master-(\\d+)-([0-9a-f]{8})-(\\d+)");

    private RuntimeDirectory() {
    }

    /**
     * Where runtime directories go: $XDG_RUNTIME_DIR/drover (the user's own tmpfs), else /run/drover for root,
     * else a per-user directory in java.io.tmpdir.
     */
    public static Path base(Map<String, String> env, long euid, String tmpdir) {
        String xdg = env.get("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "drover");
        }
        if (euid == 0 && Files.isDirectory(Path.of("/run"))) {
            return Path.of("/run", "drover");
        }
        return Path.of(tmpdir, "drover-" + euid);
    }

    /** Verifies or creates {@code base}, removes dead masters' directories in it and creates this master's (0700). */
    public static Path create(Path base) throws IOException {
        Path verified = PrivateDirectory.createOrVerify(base, PrivateDirectory.Rule.EXACTLY_0700);
        removeStale(verified, Posix.euid());
        long self = ProcessHandle.current().pid();
        long started = startTicks(self).orElseThrow(() -> new IOException("/proc/" + self + "/stat: unreadable"));
        Path own = verified.resolve(name(self, bootId(), started));
        if (Files.exists(own, LinkOption.NOFOLLOW_LINKS)) {
            // Named for this very process: the program it ran before an upgrade in place (exec keeps pid and start).
            remove(own, "this process's own, from before it was upgraded in place");
        }
        return Files.createDirectory(own,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    static String name(long pid, String boot, long startTicks) {
        return "master-" + pid + "-" + boot + "-" + startTicks;
    }

    /** Removes every directory in {@code base} whose master is provably gone and whose owner is {@code euid}. */
    static void removeStale(Path base, long euid) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(base, "master-*")) {
            for (Path entry : entries) {
                try {
                    staleBecause(entry, euid).ifPresent(why -> remove(entry, why));
                } catch (IOException e) {
                    // gone meanwhile, or unreadable: not provably stale
                }
            }
        } catch (IOException e) {
            log.warn("cannot look for dead masters' runtime directories in {}: {}", base, PathErrors.describe(e));
        }
    }

    /** Why {@code entry} is a dead master's runtime directory of ours, or empty if it is not provably one. */
    static Optional<String> staleBecause(Path entry, long euid) throws IOException {
        Matcher name = NAME.matcher(entry.getFileName().toString());
        if (!name.matches()) {
            return Optional.empty();
        }
        Map<String, Object> attributes = Files.readAttributes(entry, "unix:mode,uid", LinkOption.NOFOLLOW_LINKS);
        boolean directory = ((Integer) attributes.get("mode") & 0170000) == 0040000;
        if (!directory || Integer.toUnsignedLong((Integer) attributes.get("uid")) != euid) {
            return Optional.empty(); // not ours to judge
        }
        long pid = Long.parseLong(name.group(1));
        if (!name.group(2).equals(bootId())) {
            return Optional.of("it was made before the last reboot");
        }
        Optional<Long> started = startTicks(pid);
        if (started.isEmpty()) {
            return Optional.of("pid " + pid + " is not running");
        }
        if (started.get() != Long.parseLong(name.group(3))) {
            return Optional.of("pid " + pid + " now belongs to another process");
        }
        return Optional.empty();
    }

    /** The first 8 hex digits of this boot's random id: a directory from an earlier boot has another. */
    static String bootId() throws IOException {
        return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim().substring(0, 8);
    }

    /** When {@code pid} started, in clock ticks since boot (field 22 of /proc/PID/stat); empty if there is none. */
    static Optional<Long> startTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' do not.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Optional.of(Long.parseLong(fields[22 - 3]));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static void remove(Path dir, String why) {
        try {
            delete(dir);
            log.info("removed the runtime directory {} of a master that is gone ({})", dir, why);
        } catch (IOException e) {
            log.warn("cannot remove the runtime directory {} of a master that is gone ({}): {}", dir, why,
                    PathErrors.describe(e));
        }
    }

    /** Deletes {@code dir} and everything in it; links are removed, never followed. */
    public static void delete(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
