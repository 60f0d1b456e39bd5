package dev.drover.supervisor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drover.supervisor.config.ConfigLoader;
import dev.drover.supervisor.config.ConfigSources;
import dev.drover.supervisor.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CdsArchiveTest {

    @TempDir
    Path dir;

    private String saved;

    @BeforeEach
    void runtimeOfJarsOnly() throws Exception {
        saved = System.getProperty(dev.drover.supervisor.config.AppClasspath.RUNTIME_CLASSPATH_PROPERTY);
        Path lib = Files.createDirectories(dir.resolve("lib"));
        Files.writeString(lib.resolve("a.jar"), "not really a jar, but bytes to hash");
        Files.writeString(lib.resolve("b.jar"), "more bytes");
        System.setProperty(dev.drover.supervisor.config.AppClasspath.RUNTIME_CLASSPATH_PROPERTY, lib + "/*");
    }

    @AfterEach
    void restore() {
        if (saved == null) {
            System.clearProperty(dev.drover.supervisor.config.AppClasspath.RUNTIME_CLASSPATH_PROPERTY);
        } else {
            System.setProperty(dev.drover.supervisor.config.AppClasspath.RUNTIME_CLASSPATH_PROPERTY, saved);
        }
    }

    private Settings settings(List<String> classpath, String... jvmOptions) throws Exception {
        return ConfigLoader.load(new ConfigSources(Optional.empty(),
                Map.of("DROVER_CDS_CACHE_DIR", dir.resolve("cache").toString()), List.of(
                new ConfigSources.Flag("drover.app", "dev.example.App", "argument APP"),
                new ConfigSources.Flag("drover.classpath", classpath, "flag --classpath"),
                new ConfigSources.Flag("drover.worker-jvm-options", List.of(jvmOptions), "test"))));
    }

    @Test
    void theArchiveIsNamedByTheJarsContentsTheOptionsAndTheJvm() throws Exception {
        Path app = Files.writeString(dir.resolve("app.jar"), "version 1");
        CdsArchive first = CdsArchive.plan(settings(List.of(app.toString()), "-Xmx64m"));
        assertTrue(first.possible(), String.valueOf(first.whyNot()));
        assertEquals(dir.resolve("cache"), first.path().getParent());
        assertEquals(first, CdsArchive.plan(settings(List.of(app.toString()), "-Xmx64m")), "stable for the same inputs");

        Files.writeString(app, "version 2"); // same path, same size: only the contents differ
        CdsArchive rebuilt = CdsArchive.plan(settings(List.of(app.toString()), "-Xmx64m"));
        assertNotEquals(first.path(), rebuilt.path(), "a changed jar never maps the old archive");
        assertNotEquals(rebuilt.path(), CdsArchive.plan(settings(List.of(app.toString()), "-Xmx128m")).path(),
                "other JVM options, another archive");
        assertFalse(rebuilt.exists());
    }

    @Test
    void directoriesOnTheClasspathRuleItOut() throws Exception {
        Path classes = Files.createDirectories(dir.resolve("classes"));
        CdsArchive none = CdsArchive.plan(settings(List.of(classes.toString())));
        assertFalse(none.possible());
        assertEquals("classpath entry " + classes + " is a directory: AppCDS archives classes from jars only",
                none.whyNot());
    }

    @Test
    void itCanBeTurnedOff() throws Exception {
        Settings off = ConfigLoader.load(new ConfigSources(Optional.empty(), Map.of("DROVER_CDS_ENABLED", "false"),
                List.of(new ConfigSources.Flag("drover.app", "dev.example.App", "argument APP"))));
        assertEquals("drover.cds.enabled = false", CdsArchive.plan(off).whyNot());
    }
}
