package dev.drover.supervisor.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * drover.java-home: the Java runtime the workers (and the training run) run on, which may be another than the
 * master's; what it is (its feature version, read from its {@code release} file without starting it) decides the
 * options only some JVMs know and whether workers get an AOT cache or an AppCDS archive.
 */
public record WorkerJava(Path home, int feature, String release) {

    /** The first Java whose AOT cache Drover builds: 25 trains in one step (-XX:AOTCacheOutput) with method profiles. */
    public static final int AOT_CACHE_SINCE = 25;
    /** Drover's workers are compiled for 17. */
    static final int OLDEST = 17;
    private static final Pattern JAVA_VERSION = Pattern.compile("(?m)^JAVA_VERSION=\"(1\\.)?(\\d+)[^\"]*\"");

    /** The master's own runtime: the default. */
    public static WorkerJava master() {
        Path home = Path.of(System.getProperty("java.home"));
        String release = readRelease(home).orElse("JAVA_RUNTIME_VERSION=\"" + Runtime.version() + "\"");
        return new WorkerJava(home, Runtime.version().feature(), release);
    }

    /** The runtime at {@code home}, or why it is not one Drover's workers can run on. */
    public static WorkerJava at(Path home) throws Unusable {
        if (!Files.isDirectory(home)) {
            throw new Unusable("not a directory");
        }
        if (!Files.isExecutable(home.resolve("bin").resolve("java"))) {
            throw new Unusable("no executable bin/java in it");
        }
        String release = readRelease(home).orElseThrow(() -> new Unusable("no readable 'release' file in it, "
                + "which every JDK and JRE since 9 has"));
        Matcher version = JAVA_VERSION.matcher(release);
        if (!version.find()) {
            throw new Unusable("its 'release' file has no JAVA_VERSION");
        }
        int feature = version.group(1) != null ? 8 : Integer.parseInt(version.group(2));
        if (feature < OLDEST) {
            throw new Unusable("Java " + feature + ", older than the " + OLDEST + " Drover's workers need");
        }
        return new WorkerJava(home, feature, release);
    }

    private static Optional<String> readRelease(Path home) {
        try {
            return Optional.of(Files.readString(home.resolve("release")));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public Path java() {
        return home.resolve("bin").resolve("java");
    }

    /** Whether workers on this runtime get an AOT cache rather than a dynamic AppCDS archive. */
    public boolean aotCache() {
        return feature >= AOT_CACHE_SINCE;
    }

    /**
     * Options only this runtime's JVM needs. From 24 on, a JNI library load (Netty's epoll transport) prints a
     * four-line warning on every worker's output unless native access is granted; 17 would take the flag too, but
     * has nothing to silence.
     */
    public List<String> options() {
        return feature >= 24 ? List.of("--enable-native-access=ALL-UNNAMED") : List.of();
    }

    /**
     * What identifies this build of the runtime for an archive's name: its path and its release file (version, build
     * and source revision), plus its libjvm's size and time, which change if a package replaces the JVM in place.
     */
    public String identity() {
        Path libjvm = home.resolve("lib").resolve("server").resolve("libjvm.so");
        String jvm;
        try {
            jvm = Files.size(libjvm) + "@" + Files.getLastModifiedTime(libjvm).toMillis();
        } catch (IOException e) {
            jvm = "no server libjvm";
        }
        return home + "|" + release + "|" + jvm;
    }

    /** Why a directory is not a Java runtime the workers can use. */
    public static final class Unusable extends Exception {
        Unusable(String message) {
            super(message);
        }
    }
}
