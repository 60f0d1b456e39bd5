package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
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
 * evidence files, the default control socket): one per master, named after its pid, in a per-user base directory;
 * removed at exit. A master killed with SIGKILL cannot remove its own, so each start removes those of masters that
 * are provably gone.
 */
public final class RuntimeDirectory {

    private static final Logger log = LoggerFactory.getLogger(RuntimeDirectory.class);
    private static final Pattern NAME = Pattern.compile("master-(\\d+)-\\d+");
    /**
     * A process that started this long after a directory last changed cannot be the master that made it (a master
     * starts before it creates its directory): its pid was reused. The slack absorbs the clock's granularity.
     */
    static final Duration PID_REUSE_SLACK = Duration.ofSeconds(2);

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

    /** Verifies or creates {@code base}, removes dead masters' directories in it and creates this master's. */
    public static Path create(Path base) throws IOException {
        Path verified = PrivateDirectory.createOrVerify(base, PrivateDirectory.Rule.EXACTLY_0700);
        long self = ProcessHandle.current().pid();
        removeStale(verified, Posix.euid());
        return Files.createTempDirectory(verified, "master-" + self + "-"); // 0700, a fresh random name
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
        Map<String, Object> attributes = Files.readAttributes(entry, "unix:mode,uid,lastModifiedTime",
                LinkOption.NOFOLLOW_LINKS);
        boolean directory = ((Integer) attributes.get("mode") & 0170000) == 0040000;
        if (!directory || Integer.toUnsignedLong((Integer) attributes.get("uid")) != euid) {
            return Optional.empty(); // not ours to judge
        }
        return whyGone(Long.parseLong(name.group(1)), (FileTime) attributes.get("lastModifiedTime"));
    }

    private static Optional<String> whyGone(long pid, FileTime lastChanged) {
        Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (process.isEmpty()) {
            return Optional.of("pid " + pid + " is not running");
        }
        Optional<Instant> started = process.get().info().startInstant();
        if (started.isPresent() && started.get().isAfter(lastChanged.toInstant().plus(PID_REUSE_SLACK))) {
            return Optional.of("pid " + pid + " now belongs to a process started at " + started.get()
                    + ", after the directory last changed");
        }
        return Optional.empty();
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
