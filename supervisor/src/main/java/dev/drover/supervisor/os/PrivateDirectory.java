package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * Creates, or verifies before reuse, a directory that holds Drover's private state (sockets, reports, archives):
 * a real directory (never a symbolic link), owned by the master's user, that no other user can write to, in a
 * parent where no other user can swap it for their own. Anything else is refused with what is wrong and what to do.
 */
public final class PrivateDirectory {

    /** How strict the mode check is. */
    public enum Rule {
        /** Exactly rwx------: directories holding sockets, which only the master's user may reach. */
        EXACTLY_0700,
        /** Not writable by group or others (0755 or 0750 is fine): files in it are created by its owner only. */
        NOT_WRITABLE_BY_OTHERS
    }

    /** A path that exists but is not safe to use; the message says what is wrong and what to do. */
    public static final class Unsafe extends IOException {
        private final String problem;
        private final String expected;

        Unsafe(Path path, String problem, String expected) {
            super(path + " " + problem + " (expected: " + expected + ")");
            this.problem = path + " " + problem;
            this.expected = expected;
        }

        /** The path and what is wrong with it. */
        public String problem() {
            return problem;
        }

        /** What was expected and what to do. */
        public String expected() {
            return expected;
        }
    }

    private static final int GROUP_OR_OTHER_WRITE = 0022;
    private static final int STICKY = 01000;
    private static final int TYPE_MASK = 0170000;
    private static final int DIRECTORY = 0040000;
    private static final int SYMLINK = 0120000;

    private PrivateDirectory() {
    }

    /**
     * Creates {@code dir} 0700 (and any missing parents 0755: they hold nothing private), or
     * verifies the one that exists; returns it absolute.
     */
    public static Path createOrVerify(Path dir, Rule rule) throws IOException {
        Path absolute = dir.toAbsolutePath().normalize();
        if (!Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
            // Explicit modes, never the default 0777: a umask set around a bind on another thread can only narrow them.
            Files.createDirectories(absolute.getParent(), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwxr-xr-x")));
            try {
                // Created with its final mode, never chmod-ed afterwards.
                Files.createDirectory(absolute, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException raced) {
                // someone created it between the check and mkdir: it is verified like any existing one
            }
        }
        verifyParentOf(absolute);
        verify(absolute, rule);
        return absolute;
    }

    /** Verifies {@code dir} if it exists; a missing one is created later, when it is needed. */
    public static void verifyIfExists(Path dir, Rule rule) throws IOException {
        Path absolute = dir.toAbsolutePath().normalize();
        if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
            verifyParentOf(absolute);
            verify(absolute, rule);
        }
    }

    /** Verifies an existing directory with lstat semantics: the link itself is looked at, never its target. */
    public static void verify(Path dir, Rule rule) throws IOException {
        Map<String, Object> attributes = Files.readAttributes(dir, "unix:mode,uid", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) attributes.get("mode");
        long uid = Integer.toUnsignedLong((Integer) attributes.get("uid"));
        long self = Posix.euid();
        if ((mode & TYPE_MASK) == SYMLINK) {
            throw new Unsafe(dir, "is a symbolic link (to " + Files.readSymbolicLink(dir) + ")",
                    "a directory, not a link to one; remove the link, or choose another path");
        }
        if ((mode & TYPE_MASK) != DIRECTORY) {
            throw new Unsafe(dir, "is not a directory", "a directory; remove it, or choose another path");
        }
        if (uid != self) {
            throw new Unsafe(dir, "is owned by uid " + uid + ", mode " + octal(mode),
                    "a directory of uid " + self + " (the master's user) with mode 0700; remove it, or choose another path");
        }
        if (rule == Rule.EXACTLY_0700 && (mode & 07777) != 0700) {
            throw new Unsafe(dir, "has mode " + octal(mode),
                    "mode 0700, so that only the master's user can reach what is inside; chmod 700 it, or choose another path");
        }
        if (rule == Rule.NOT_WRITABLE_BY_OTHERS && (mode & GROUP_OR_OTHER_WRITE) != 0) {
            throw new Unsafe(dir, "has mode " + octal(mode) + ": group or others can write to it",
                    "a directory only its owner can write to; chmod go-w it, or choose another path");
        }
    }

    /**
     * Refuses a parent that others can write to without the sticky bit: whoever can write to it can rename
     * {@code entry} away and put their own in its place between our check and our use. A sticky parent (/tmp)
     * lets only the owner of an entry rename or remove it, so ours stays ours.
     */
    public static void verifyParentOf(Path entry) throws IOException {
        Path parent = entry.toAbsolutePath().normalize().getParent();
        if (parent == null) {
            return;
        }
        int mode = (Integer) Files.getAttribute(parent, "unix:mode");
        if ((mode & GROUP_OR_OTHER_WRITE) != 0 && (mode & STICKY) == 0) {
            throw new Unsafe(parent, "(the directory of " + entry.getFileName() + ") has mode " + octal(mode)
                    + ": group or others can write to it and it has no sticky bit, so another user could replace "
                    + entry.getFileName(), "a directory only its owner can write to, or one with the sticky bit "
                    + "as /tmp has; choose another path");
        }
    }

    /** 0755, 1777: the permission bits as ls -l's octal form. */
    public static String octal(int mode) {
        return String.format("%04o", mode & 07777);
    }
}
