package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * Where workers reach the master's runtime files (the link socket, the copy of Netty's library, their evidence
 * and snapshot files), and the path by which they reach it. Workers of the master's own user use the runtime
 * directory itself. Workers of another user (drover.user) get a subdirectory of it that they own (0700): the
 * runtime directory and its base stay root's 0700, so no path from / reaches it for them, and the shell that
 * starts each worker opens the subdirectory on fd 3 while still root. The worker uses it as /proc/self/fd/3/...:
 * the kernel resolves that link to the directory without checking the directories above it, so the worker reaches
 * its own directory and nothing else of the master's (the control socket, the pidfile, the master's files).
 */
public record WorkerDirectory(Path path, Optional<Credentials> owner) {

    /** The worker's fd of the directory: 0 to 2 are its stdio, and the JDK closes every other fd before exec. */
    static final int FD = 3;

    /** The runtime directory itself, for workers of the master's own user. */
    public static WorkerDirectory shared(Path runtimeDir) {
        return new WorkerDirectory(runtimeDir, Optional.empty());
    }

    /**
     * {@code runtimeDir}/workers, owned by {@code owner} with mode 0700. Nothing of that user can reach it yet (it
     * sits in root's 0700 directory and no worker has its fd), so giving it away here cannot race with anyone.
     */
    public static WorkerDirectory create(Path runtimeDir, Credentials owner) throws IOException {
        Path dir = Files.createDirectory(runtimeDir.resolve("workers"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        WorkerDirectory created = new WorkerDirectory(dir, Optional.of(owner));
        created.handOver(dir);
        return created;
    }

    /**
     * Gives {@code file} (in this directory) to the workers' user: the link socket, which a client must be able to
     * write to before it can connect. lchown: a link put there is given away, never what it points to. Only done
     * before the first worker starts, while nobody but root can reach the directory.
     */
    public void handOver(Path file) throws IOException {
        if (owner.isEmpty()) {
            return;
        }
        Files.setAttribute(file, "unix:gid", (int) owner.get().gid(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(file, "unix:uid", (int) owner.get().uid(), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * A file a worker wrote here (its evidence, a snapshot). The directory may be the workers' own, and a worker
     * may have put a link or a FIFO at that name: read as root through the link, it would hand the master's reads
     * to the app. So a regular file only, opened with O_NOFOLLOW.
     */
    public static String read(Path file) throws IOException {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(file + " is not a regular file (expected: the file the worker wrote)");
        }
        try (var channel = Files.newByteChannel(file, java.util.Set.of(java.nio.file.StandardOpenOption.READ,
                LinkOption.NOFOLLOW_LINKS)); var in = java.nio.channels.Channels.newInputStream(channel)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** {@code file}, a path in this directory, as a worker reaches it. */
    public Path seenByWorker(Path file) {
        if (owner.isEmpty()) {
            return file;
        }
        return Path.of("/proc/self/fd/" + FD).resolve(path.relativize(file));
    }
}
