package dev.drover.supervisor.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/**
 * What tells a file's version apart without reading it: its size, modification time and file key (device and
 * inode), as the JVM itself checks a class-path jar against a CDS archive. A deploy that copies a new jar over the
 * old one or moves one into place changes at least one of them, so a result worked out from a file's contents can
 * be kept for as long as its stamp stays the same (the checks a reload repeats: JvmOptionsCheck, CdsArchive).
 */
public record FileStamp(Path path, long size, long modifiedNanos, Object fileKey) {

    /** How old a modification must be before a stamp is trusted to tell versions apart (see {@link #settled}). */
    static final long SETTLE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(2);

    /** The stamp of a regular file; empty if {@code path} names none (missing, a directory, unreadable). */
    public static Optional<FileStamp> of(Path path) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
            if (!attributes.isRegularFile()) {
                return Optional.empty();
            }
            return Optional.of(new FileStamp(path, attributes.size(),
                    attributes.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS), attributes.fileKey()));
        } catch (IOException | SecurityException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether the file was last modified long enough ago that a later change is sure to show in its stamp. The
     * kernel keeps modification times to its clock tick (a few ms), so a file written twice within one tick, same
     * size, same inode, keeps its stamp; a result read from a file modified just now is not kept (Git's "racily
     * clean" entries, the same problem). Deploys write jars seconds before a reload: the next reload keeps them.
     */
    public boolean settled() {
        long now = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis());
        return now - modifiedNanos > SETTLE_NANOS;
    }

    /** As {@link #of(Path)} for a path given as text, which may be no path at all (then empty). */
    public static Optional<FileStamp> of(String path) {
        if (path.isEmpty()) {
            return Optional.empty();
        }
        try {
            return of(Path.of(path));
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
    }
}
