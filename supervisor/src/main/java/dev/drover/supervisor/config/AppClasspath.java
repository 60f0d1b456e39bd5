package dev.drover.supervisor.config;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The app's drover.classpath as a worker's {@code java -cp} gets it. A jar is itself; {@code dir/*} is the java
 * launcher's wildcard (the jars in dir), passed as is; a directory is what {@code java -cp dir} makes of it (classes
 * and resources under it) and, if it holds jars, its jars too, as {@code dir/*} would add them.
 */
public final class AppClasspath {

    /** The java launcher's wildcard: every .jar (or .JAR) directly in the directory, in no promised order. */
    static final String WILDCARD = "*";

    private AppClasspath() {
    }

    /** The entries for -cp, absolute (relative paths are taken from the current directory), in the given order. */
    public static List<String> entries(List<Path> classpath) {
        List<String> entries = new ArrayList<>();
        for (Path entry : classpath) {
            entries.addAll(expand(entry));
        }
        return entries;
    }

    /** Whether an entry is the launcher's wildcard ({@code dir/*} or {@code *}). */
    public static boolean isWildcard(Path entry) {
        Path name = entry.getFileName();
        return name != null && name.toString().equals(WILDCARD);
    }

    static List<String> expand(Path entry) {
        Path absolute = entry.toAbsolutePath();
        if (isWildcard(entry) || !Files.isDirectory(absolute)) {
            return List.of(absolute.toString());
        }
        Contents contents = contents(absolute);
        String jars = absolute.resolve(WILDCARD).toString();
        if (!contents.jars()) {
            return List.of(absolute.toString());
        }
        // A directory of nothing but jars is exactly its wildcard; passing it alone keeps AppCDS possible (a
        // non-empty directory on the classpath rules an archive out).
        return contents.others() ? List.of(absolute.toString(), jars) : List.of(jars);
    }

    private record Contents(boolean jars, boolean others) {
    }

    private static Contents contents(Path dir) {
        boolean jars = false;
        boolean others = false;
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path child : stream) {
                boolean jar = isJar(child);
                jars |= jar;
                others |= !jar;
            }
        } catch (IOException e) {
            return new Contents(false, true); // unreadable: left to the JVM as a directory, and to AppCheck to report
        }
        return new Contents(jars, others);
    }

    static boolean isJar(Path file) {
        String name = file.getFileName().toString();
        return (name.endsWith(".jar") || name.endsWith(".JAR")) && !Files.isDirectory(file);
    }
}
