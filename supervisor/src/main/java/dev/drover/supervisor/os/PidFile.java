package dev.drover.supervisor.os;

import dev.drover.supervisor.config.PathErrors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The master's pidfile: refuses to start over a live pid, is written atomically (an exclusive temp file renamed
 * into place, so a reader never sees it half-written and a link at its name is replaced, not followed) and is
 * removed on exit only if it still holds our pid. Operators run {@code kill $(cat PIDFILE)}, often as root, so a
 * pidfile that someone else could rewrite is refused: one in a directory that group or others can write to without
 * the sticky bit, or a symbolic link (Drover never makes one).
 */
public final class PidFile implements AutoCloseable {

    private final Path path;
    private final long pid;

    private PidFile(Path path, long pid) {
        this.path = path;
        this.pid = pid;
    }

    /** Writes {@code pid} to {@code path}; the message of the exception says why it could not. */
    public static PidFile create(Path path, long pid) throws IOException {
        Path absolute = path.toAbsolutePath().normalize();
        Path dir = absolute.getParent();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IOException("cannot create its directory " + PathErrors.describe(e), e);
        }
        PrivateDirectory.verifyParentOf(absolute);
        refuseLink(absolute);
        Optional<Long> existing = read(absolute);
        if (existing.isPresent() && existing.get() != pid
                && ProcessHandle.of(existing.get()).map(ProcessHandle::isAlive).orElse(false)) {
            throw new IOException("pidfile " + path + " holds pid " + existing.get()
                    + ", which is alive: is Drover already running? (stop it, or remove the file if that pid is not ours)");
        }
        try {
            AtomicFile.write(absolute, (pid + "\n").getBytes(StandardCharsets.US_ASCII), "rw-r--r--");
        } catch (IOException e) {
            throw new IOException("cannot write a file in " + dir + ": " + PathErrors.reason(e), e);
        }
        return new PidFile(absolute, pid);
    }

    private static void refuseLink(Path path) throws IOException {
        if (Files.isSymbolicLink(path)) {
            throw new PrivateDirectory.Unsafe(path, "is a symbolic link (to " + Files.readSymbolicLink(path)
                    + "), which Drover never creates", "a regular file or no file; remove the link, or choose another path");
        }
    }

    /** The pid in the file, if there is one that parses; a link is not read (O_NOFOLLOW). */
    public static Optional<Long> read(Path path) {
        try (SeekableByteChannel in = Files.newByteChannel(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer buffer = ByteBuffer.allocate(32);
            while (buffer.hasRemaining() && in.read(buffer) > 0) {
                // a pid is a few bytes; anything longer is not one
            }
            return Optional.of(Long.parseLong(new String(buffer.array(), 0, buffer.position(),
                    StandardCharsets.US_ASCII).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        if (read(path).orElse(-1L) == pid) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                // best effort at exit: the next start sees a dead pid and overwrites it
            }
        }
    }
}
