package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.EnumSet;
import java.util.HexFormat;

/**
 * Replaces a file whole (a reader sees the old content or the new, never half of it) without following a link
 * planted at either name: the content goes into a new, randomly named file opened with O_CREAT|O_EXCL (which
 * fails on any existing name, link or not) and its final mode from the start, then rename(2) puts it in place
 * (which replaces a link at the target instead of writing through it).
 */
public final class AtomicFile {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int ATTEMPTS = 10;

    private AtomicFile() {
    }

    /** Writes {@code content} to {@code target} with {@code permissions} ("rw-------"), in the target's directory. */
    public static void write(Path target, byte[] content, String permissions) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Path temp = target.resolveSibling("." + target.getFileName() + "." + randomToken() + ".tmp");
            SeekableByteChannel out;
            try {
                out = Files.newByteChannel(temp, EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions)));
            } catch (FileAlreadyExistsException taken) {
                if (attempt < ATTEMPTS) {
                    continue;
                }
                throw taken;
            }
            try {
                // Written through the descriptor that created it: reopening the name could follow a link put there.
                try (out) {
                    writeAll(out, content);
                }
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(temp);
            }
            return;
        }
    }

    private static void writeAll(SeekableByteChannel out, byte[] content) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(content);
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }

    private static String randomToken() {
        byte[] token = new byte[8];
        RANDOM.nextBytes(token);
        return HexFormat.of().formatHex(token);
    }
}
