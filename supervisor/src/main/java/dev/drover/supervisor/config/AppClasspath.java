package dev.drover.supervisor.config;

import java.io.File;
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

    /** Set by the launcher: the worker runtime's jars (worker-runtime and its dependencies). */
    public static final String RUNTIME_CLASSPATH_PROPERTY = "drover.worker.classpath";

    /** Set by the launcher: the Java agent every worker of a jar or main-class app runs with. */
    public static final String AGENT_JAR_PROPERTY = "drover.agent.jar";

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

    /**
     * The worker runtime's jars, then the app's drover.classpath (AppClasspath: directories of jars and dir/*
     * included) in the user's order, and nothing else: no app is bundled.
     *
     * The runtime comes first on purpose. A flat class path holds one copy of each class, the first found. The
     * runtime and the app share the types that cross between them (DroverApp and its context, Netty's handlers and
     * buffers, Typesafe Config, SLF4J), so those must be the ones the runtime was built against: an app jar that
     * bundles its own Netty, put first, would replace the runtime's Netty with a version it has never run on. The
     * runtime's jars are nothing but those shared libraries, so there is nothing the app could safely override;
     * an app that needs other versions of them shades them into its own package.
     */
    public static String workerClasspath(Settings settings) {
        List<String> entries = new ArrayList<>();
        entries.add(runtimeClasspath());
        entries.addAll(AppClasspath.entries(settings.classpath()));
        return String.join(File.pathSeparator, entries);
    }

    /**
     * The worker runtime's jars, one by one (the launcher's {@code lib/*} expanded): the agent of a foreign worker
     * builds a URLClassLoader over them, and a URLClassLoader knows no wildcards.
     */
    public static String runtimeJars() {
        List<String> jars = new ArrayList<>();
        for (String entry : runtimeClasspath().split(File.pathSeparator)) {
            Path path = Path.of(entry);
            if (entry.isEmpty()) {
                continue;
            }
            if (isWildcard(path)) {
                AppCheck.jarsIn(path.getParent()).forEach(jar -> jars.add(jar.toAbsolutePath().toString()));
            } else {
                jars.add(path.toAbsolutePath().toString());
            }
        }
        return String.join(File.pathSeparator, jars);
    }

    /**
     * The app's class path as a URLClassLoader needs it (a standby JVM's app loader): {@link #entries} with each
     * {@code dir/*} expanded to the jars in it.
     */
    public static List<String> appJars(List<Path> classpath) {
        List<String> jars = new ArrayList<>();
        for (String entry : entries(classpath)) {
            Path path = Path.of(entry);
            if (isWildcard(path)) {
                AppCheck.jarsIn(path.getParent()).forEach(jar -> jars.add(jar.toAbsolutePath().toString()));
            } else {
                jars.add(entry);
            }
        }
        return jars;
    }

    /**
     * The worker runtime's class path alone: the start of every native worker's, and all of a standby JVM's (which
     * loads the app later, in a loader of its own).
     */
    public static String runtimeClasspath() {
        return System.getProperty(RUNTIME_CLASSPATH_PROPERTY, System.getProperty("java.class.path"));
    }

    /**
     * The agent jar: as the launcher names it, else where the build puts it under Drover's home
     * (agent/target/drover-agent.jar).
     */
    public static Path agentJar() {
        String named = System.getProperty(AGENT_JAR_PROPERTY);
        return named != null && !named.isBlank() ? Path.of(named)
                : home().resolve("agent").resolve("target").resolve("drover-agent.jar");
    }

    /**
     * Drover's home: $DROVER_HOME (the launcher sets it), else three levels above the runtime's jar
     * (HOME/worker-runtime/target/worker-runtime.jar).
     */
    static Path home() {
        String home = System.getenv("DROVER_HOME");
        if (home != null && !home.isBlank()) {
            return Path.of(home);
        }
        Path first = Path.of(runtimeClasspath().split(File.pathSeparator)[0]).toAbsolutePath();
        Path up = first.getParent() == null ? null : first.getParent().getParent();
        return up == null || up.getParent() == null ? Path.of("").toAbsolutePath() : up.getParent();
    }
}
