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
 * the worker JVM accepts its options, and the classpath holds the app's class. The class is found, not initialised:
 * a class that fails to load or initialise is the worker's to report (exit code 4).
 */
public final class AppCheck {

    /** The interface an app implements; checked by name, so the master needs none of the worker's jars. */
    static final String APP_INTERFACE = "dev.drover.worker.api.DroverApp";

    private AppCheck() {
    }

    public static void verify(Settings settings) throws ConfigError {
        List<String> problems = new ArrayList<>(classpathProblems(settings));
        JvmOptionsCheck.complaint(settings.workerJvmOptions()).ifPresent(complaint -> problems.add(
                ConfigError.describe("drover.worker-jvm-options", quoted(settings.workerJvmOptions()),
                        settings.origin("worker-jvm-options"), "the worker JVM refuses them: " + complaint,
                        "options that " + JvmOptionsCheck.JAVA + " accepts: try it with them and -version")));
        if (!problems.isEmpty()) {
            throw new ConfigError(problems);
        }
        verifyAppClass(settings);
    }

    private static void verifyAppClass(Settings settings) throws ConfigError {
        String appOrigin = settings.origin("app");
        String classpath = AppClasspath.workerClasspath(settings);
        try (URLClassLoader loader = new URLClassLoader(urls(classpath), AppCheck.class.getClassLoader())) {
            Class<?> type = Class.forName(settings.app(), false, loader);
            if (!implementsApp(type)) {
                throw ConfigError.of("drover.app", settings.app(), appOrigin, "does not implement "
                        + APP_INTERFACE, "a class implementing " + APP_INTERFACE);
            }
        } catch (ClassNotFoundException e) {
            throw ConfigError.of("drover.app", settings.app(), appOrigin, "class not found on the workers' classpath "
                    + classpath, "a class in drover.classpath (flag --classpath) implementing " + APP_INTERFACE);
        } catch (LinkageError e) {
            // Found but broken (a missing dependency, say): the worker reports it with its own diagnosis.
        } catch (IOException e) {
            // closing the loader failed; nothing to report
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

    private static String unreadableFile(Path file) {
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

    private static String quoted(List<String> values) {
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
    private static List<Path> jarsIn(Path dir) {
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
