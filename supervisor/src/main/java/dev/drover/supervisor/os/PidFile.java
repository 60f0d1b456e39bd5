package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The master's pidfile: refuses to start over a live pid, is written atomically (temp file + rename, so a reader
 * never sees it half-written) and is removed on exit only if it still holds our pid.
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
        Optional<Long> existing = read(path);
        if (existing.isPresent() && existing.get() != pid
                && ProcessHandle.of(existing.get()).map(ProcessHandle::isAlive).orElse(false)) {
            throw new IOException("pidfile " + path + " holds pid " + existing.get()
                    + ", which is alive: is Drover already running? (stop it, or remove the file if that pid is not ours)");
        }
        Path dir = path.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, "." + path.getFileName(), ".tmp");
        try {
            Files.writeString(temp, pid + "\n", StandardCharsets.US_ASCII);
            try {
                Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, path, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
        return new PidFile(path, pid);
    }

    /** The pid in the file, if there is one that parses. */
    public static Optional<Long> read(Path path) {
        try {
            return Optional.of(Long.parseLong(Files.readString(path, StandardCharsets.US_ASCII).trim()));
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
