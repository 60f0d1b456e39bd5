package dev.drover.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Makes "a rebuilt jar of a new version" for tests: a copy of a jar with one entry's bytes replaced. Every other
 * entry keeps its name, order, time and compression method; a Spring Boot jar only runs if its nested jars stay
 * STORED (the launcher reads them in place), so STORED entries are written STORED with their size and CRC.
 */
final class Jars {

    private Jars() {
    }

    /** Copies {@code source} to {@code target}, with the bytes of {@code entryName} replaced by {@code content}. */
    static void copyReplacing(Path source, Path target, String entryName, byte[] content) throws IOException {
        boolean replaced = false;
        try (ZipFile in = new ZipFile(source.toFile());
             ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(target))) {
            for (Enumeration<? extends ZipEntry> entries = in.entries(); entries.hasMoreElements(); ) {
                ZipEntry entry = entries.nextElement();
                if (entry.getName().equals(entryName)) {
                    write(out, replacement(entry, content), content);
                    replaced = true;
                } else {
                    try (InputStream data = in.getInputStream(entry)) {
                        write(out, copyOf(entry), data.readAllBytes());
                    }
                }
            }
        }
        if (!replaced) {
            Files.deleteIfExists(target);
            throw new IllegalArgumentException(source + " has no entry " + entryName + " (expected: an existing entry"
                    + " to replace)");
        }
    }

    /**
     * Copies {@code source} to {@code target} with {@code key=value} in the properties entry {@code entryName}: the
     * key's line is rewritten in place (comments and every other line kept), or appended when there is none.
     */
    static void copyWithProperty(Path source, Path target, String entryName, String key, String value)
            throws IOException {
        String text = new String(read(source, entryName), StandardCharsets.ISO_8859_1);
        Matcher line = Pattern.compile("(?m)^" + Pattern.quote(key) + "\\s*[=:].*$").matcher(text);
        String updated = line.find()
                ? line.replaceFirst(Matcher.quoteReplacement(key + "=" + value))
                : text + (text.isEmpty() || text.endsWith("\n") ? "" : "\n") + key + "=" + value + "\n";
        copyReplacing(source, target, entryName, updated.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** The bytes of one entry of a jar. */
    static byte[] read(Path jar, String entryName) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry entry = zip.getEntry(entryName);
            if (entry == null) {
                throw new IllegalArgumentException(jar + " has no entry " + entryName);
            }
            try (InputStream in = zip.getInputStream(entry)) {
                return in.readAllBytes();
            }
        }
    }

    /**
     * Makes the lib/ of a thin jar (Class-Path: lib/...) visible beside a copy of it in {@code dir}, through a
     * symbolic link, so that the copy runs with {@code java -jar} from there.
     */
    static void linkLibraries(Path originalJar, Path dir) {
        Path lib = originalJar.toAbsolutePath().resolveSibling("lib");
        try {
            Files.createSymbolicLink(dir.resolve("lib"), lib);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot link " + dir.resolve("lib") + " to " + lib, e);
        }
    }

    /** The entry as it was, except a DEFLATED one's compressed size, which recompression may change. */
    private static ZipEntry copyOf(ZipEntry entry) {
        ZipEntry copy = new ZipEntry(entry);
        if (entry.getMethod() != ZipEntry.STORED) {
            copy.setCompressedSize(-1);
        }
        return copy;
    }

    /** A new header for replaced bytes: same name, time and method; a STORED one needs its size and CRC upfront. */
    private static ZipEntry replacement(ZipEntry original, byte[] content) {
        ZipEntry entry = new ZipEntry(original.getName());
        entry.setTime(original.getTime());
        entry.setMethod(original.getMethod());
        if (original.getMethod() == ZipEntry.STORED) {
            CRC32 crc = new CRC32();
            crc.update(content);
            entry.setSize(content.length);
            entry.setCompressedSize(content.length);
            entry.setCrc(crc.getValue());
        }
        return entry;
    }

    private static void write(ZipOutputStream out, ZipEntry entry, byte[] content) throws IOException {
        out.putNextEntry(entry);
        out.write(content);
        out.closeEntry();
    }
}
