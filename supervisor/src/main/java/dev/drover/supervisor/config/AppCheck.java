package dev.drover.supervisor.config;

import dev.drover.supervisor.os.WorkerSpawner;
import dev.drover.worker.api.DroverApp;
import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks before anything starts that the app's classpath exists and holds the app's class. The class is found,
 * not initialised: a class that fails to load or initialise is the worker's to report (exit code 4).
 */
public final class AppCheck {

    private AppCheck() {
    }

    public static void verify(Settings settings) throws ConfigError {
        String appOrigin = settings.origin("app");
        String classpathOrigin = settings.origin("classpath");
        List<String> problems = new ArrayList<>();
        for (Path entry : settings.classpath()) {
            if (!Files.exists(entry)) {
                problems.add(ConfigError.describe("drover.classpath", settings.classpath().toString(), classpathOrigin,
                        "no such file or directory: " + entry, "existing jars or directories"));
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigError(problems);
        }
        String classpath = WorkerSpawner.workerClasspath(settings);
        try (URLClassLoader loader = new URLClassLoader(urls(classpath), AppCheck.class.getClassLoader())) {
            Class<?> type = Class.forName(settings.app(), false, loader);
            if (!DroverApp.class.isAssignableFrom(type)) {
                throw ConfigError.of("drover.app", settings.app(), appOrigin, "does not implement "
                        + DroverApp.class.getName(), "a class implementing " + DroverApp.class.getName());
            }
        } catch (ClassNotFoundException e) {
            throw ConfigError.of("drover.app", settings.app(), appOrigin, "class not found on the workers' classpath "
                    + classpath, "a class in drover.classpath (flag --classpath) implementing " + DroverApp.class.getName());
        } catch (LinkageError e) {
            // Found but broken (a missing dependency, say): the worker reports it with its own diagnosis.
        } catch (java.io.IOException e) {
            // closing the loader failed; nothing to report
        }
    }

    private static URL[] urls(String classpath) {
        List<URL> urls = new ArrayList<>();
        for (String entry : classpath.split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            try {
                urls.add(Path.of(entry).toUri().toURL());
            } catch (MalformedURLException e) {
                // not a usable path: the worker's JVM ignores it the same way
            }
        }
        return urls.toArray(URL[]::new);
    }
}
