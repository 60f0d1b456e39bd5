package dev.drover.supervisor.config;

import java.io.File;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Checks before anything starts (and before a reload is accepted) that the app can run: its classpath can be read,
 * the worker JVM accepts its options, and the app is what it claims: a DroverApp class or a main class on the
 * classpath, or an executable jar; a jar or main class (a foreign app) must embed a server Drover can drive, and
 * needs exactly one TCP bind. A class is found, not initialised: a class that fails to load or initialise is the
 * worker's to report (exit code 4).
 */
public final class AppCheck {

    /** The interface an app implements; checked by name, so the master needs none of the worker's jars. */
    static final String APP_INTERFACE = "dev.drover.worker.api.DroverApp";

    /** What every refusal of a foreign app's server ends with: what Drover can drive, and what to do. */
    static final String DROVER_DRIVES = "Drover drives Tomcat (tomcat-embed-core) and Jetty 12 (jetty-server 12.x): "
            + "it hands their connector the shared socket and reaches into them for readiness, request counts and "
            + "draining. Build the app with one of them (Spring Boot: spring-boot-starter-web for Tomcat, or "
            + "spring-boot-starter-jetty), or write it against Drover's own API (dev.drover.worker.api.DroverApp)";

    /**
     * The app's server cannot be driven, or the agent that drives it is missing: not a mistake in a setting but a
     * property of the app (exit code 4 at start; on a reload, a refused reload like any configuration error).
     */
    public static final class Refused extends ConfigError {
        Refused(String problem) {
            super(List.of(problem));
        }
    }

    private AppCheck() {
    }

    /** The settings with the app's kind decided; a ConfigError (exit 2) or a Refused (exit 4) otherwise. */
    public static Settings verify(Settings settings) throws ConfigError {
        List<String> problems = new ArrayList<>(settings.appKind() == AppKind.JAR ? jarProblems(settings)
                : classpathProblems(settings));
        JvmOptionsCheck.complaint(settings.workerJvmOptions()).ifPresent(complaint -> problems.add(
                ConfigError.describe("drover.worker-jvm-options", quoted(settings.workerJvmOptions()),
                        settings.origin("worker-jvm-options"), "the worker JVM refuses them: " + complaint,
                        "options that " + JvmOptionsCheck.JAVA + " accepts: try it with them and -version")));
        if (!problems.isEmpty()) {
            throw new ConfigError(problems);
        }
        Settings checked = settings.appKind() == AppKind.JAR ? settings : settings.withAppKind(classKind(settings));
        ForeignAppCheck.verify(checked);
        return checked;
    }

    /** A jar app: the jar exists, is a jar with a Main-Class, and no drover.classpath (java -jar ignores -cp). */
    private static List<String> jarProblems(Settings settings) {
        List<String> problems = new ArrayList<>();
        String problem = ForeignAppCheck.executableJarProblem(Path.of(settings.app()));
        if (problem != null) {
            problems.add(ConfigError.describe("drover.app", settings.app(), settings.origin("app"), problem,
                    "an existing, readable jar whose META-INF/MANIFEST.MF names a Main-Class (as java -jar needs)"));
        }
        if (!settings.classpath().isEmpty()) {
            problems.add(ConfigError.describe("drover.classpath", quoted(settings.classpath().stream()
                    .map(Path::toString).toList()), settings.origin("classpath"), "set while drover.app is a jar ("
                    + settings.app() + "), whose class path is its manifest's: java -jar ignores any other",
                    "no drover.classpath with a jar app (unset DROVER_CLASSPATH); or the main class as drover.app "
                    + "with the jar and its libraries as drover.classpath"));
        }
        return problems;
    }

    /** A DroverApp if it implements the interface, else a main class if it has one; a ConfigError if neither. */
    private static AppKind classKind(Settings settings) throws ConfigError {
        String classpath = AppClasspath.workerClasspath(settings);
        URLClassLoader loader = new URLClassLoader(urls(classpath), AppCheck.class.getClassLoader());
        try {
            Class<?> type = Class.forName(settings.app(), false, loader);
            if (implementsApp(type)) {
                return AppKind.DROVER_APP;
            }
            if (hasMain(type)) {
                return AppKind.MAIN_CLASS;
            }
            throw ConfigError.of("drover.app", settings.app(), settings.origin("app"), "neither implements "
                    + APP_INTERFACE + " nor has a public static void main(String[])", "a class implementing "
                    + APP_INTERFACE + ", or a main class (run with its own Tomcat or Jetty 12 server)");
        } catch (ClassNotFoundException e) {
            throw ConfigError.of("drover.app", settings.app(), settings.origin("app"), "class not found on the "
                    + "workers' classpath " + classpath, "a class in drover.classpath (flag --classpath) implementing "
                    + APP_INTERFACE + " or with a main method; or the path of an executable jar (NAME.jar)");
        } catch (LinkageError e) {
            // Found but broken (a missing dependency, say): the worker reports it with its own diagnosis.
            return AppKind.DROVER_APP;
        } finally {
            closeQuietly(loader);
        }
    }

    private static void closeQuietly(URLClassLoader loader) {
        try {
            loader.close();
        } catch (IOException e) {
            // nothing was written; an open jar is closed when the loader is collected
        }
    }

    /** {@code public static void main(String[])}, as the java launcher looks for it. */
    static boolean hasMain(Class<?> type) {
        try {
            java.lang.reflect.Method main = type.getMethod("main", String[].class);
            int modifiers = main.getModifiers();
            return java.lang.reflect.Modifier.isStatic(modifiers) && main.getReturnType() == void.class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    /** Whether {@code type}, a superclass or any interface they extend is the app interface. */
    static boolean implementsApp(Class<?> type) {
        if (type == null) {
            return false;
        }
        if (type.getName().equals(APP_INTERFACE)) {
            return true;
        }
        for (Class<?> parent : type.getInterfaces()) {
            if (implementsApp(parent)) {
                return true;
            }
        }
        return implementsApp(type.getSuperclass());
    }

    /** Every classpath entry that cannot be read, with the OS's reason: the JVM would skip it without a word. */
    static List<String> classpathProblems(Settings settings) {
        List<String> problems = new ArrayList<>();
        for (Path entry : settings.classpath()) {
            Path absolute = entry.toAbsolutePath();
            String problem = AppClasspath.isWildcard(entry) ? unreadableDirectory(absolute.getParent(), true)
                    : Files.isDirectory(absolute) ? unreadableDirectory(absolute, false) : unreadableFile(absolute);
            if (problem != null) {
                problems.add(ConfigError.describe("drover.classpath", quoted(settings.classpath().stream()
                        .map(Path::toString).toList()), settings.origin("classpath"), problem,
                        "existing, readable jars, directories or DIR/* (the jars in DIR)"));
            }
        }
        return problems;
    }

    static String unreadableFile(Path file) {
        try (var channel = Files.newByteChannel(file)) {
            return null;
        } catch (IOException e) {
            return "cannot read " + file + ": " + PathErrors.reason(e);
        }
    }

    /** A directory must be listable; the jars in it (all of them for DIR/*) readable. */
    private static String unreadableDirectory(Path dir, boolean wildcard) {
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            stream.iterator().hasNext();
        } catch (IOException e) {
            return "cannot list " + (wildcard ? "the directory of " + dir.resolve(AppClasspath.WILDCARD) : dir) + ": "
                    + PathErrors.reason(e);
        }
        return jarsIn(dir).stream().map(AppCheck::unreadableFile).filter(Objects::nonNull).findFirst().orElse(null);
    }

    static String quoted(List<String> values) {
        return values.stream().map(v -> "\"" + v + "\"").collect(Collectors.joining(", ", "[", "]"));
    }

    private static URL[] urls(String classpath) {
        List<URL> urls = new ArrayList<>();
        for (String entry : classpath.split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            Path path = Path.of(entry);
            if (AppClasspath.isWildcard(path)) {
                jarsIn(path.getParent()).forEach(jar -> addUrl(urls, jar));
            } else {
                addUrl(urls, path);
            }
        }
        return urls.toArray(URL[]::new);
    }

    /** The jars DIR/* stands for, as the java launcher expands it (unreadable: none, as for the launcher). */
    static List<Path> jarsIn(Path dir) {
        List<Path> jars = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            stream.forEach(child -> {
                if (AppClasspath.isJar(child)) {
                    jars.add(child);
                }
            });
        } catch (IOException e) {
            // reported by classpathProblems for the app's entries; the runtime's are the launcher's
        }
        jars.sort(null);
        return jars;
    }

    private static void addUrl(List<URL> urls, Path path) {
        try {
            urls.add(path.toUri().toURL());
        } catch (MalformedURLException e) {
            // not a usable path: the worker's JVM ignores it the same way
        }
    }
}
