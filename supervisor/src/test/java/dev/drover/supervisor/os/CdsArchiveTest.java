package dev.drover.supervisor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drover.supervisor.config.AppKind;
import dev.drover.supervisor.config.ConfigLoader;
import dev.drover.supervisor.config.ConfigSources;
import dev.drover.supervisor.config.Settings;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
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
    void aJarIsHashedAgainOnlyWhenItsStampChanges() throws Exception {
        Path jar = Files.writeString(dir.resolve("app.jar"), "version 1");
        long now = System.currentTimeMillis();
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(now - 60_000));
        int before = CdsArchive.HASHES_READ.get();
        String first = CdsArchive.contentKey(jar);
        assertEquals(first, CdsArchive.contentKey(jar));
        assertEquals(before + 1, CdsArchive.HASHES_READ.get(), "an unchanged jar is read once");
        assertEquals(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest("version 1".getBytes())).substring(0, 24), first, "the key is its contents' hash");

        Files.writeString(jar, "version 2"); // same size, same inode: only the modification time differs
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(now - 30_000));
        assertNotEquals(first, CdsArchive.contentKey(jar));
        assertEquals(before + 2, CdsArchive.HASHES_READ.get());

        Files.writeString(jar, "version 3"); // modified just now: a change within the same clock tick would not show
        String third = CdsArchive.contentKey(jar);
        assertEquals(third, CdsArchive.contentKey(jar));
        assertEquals(before + 4, CdsArchive.HASHES_READ.get(), "a jar written just now is read every time");
    }

    /** A directory that passes for a Java runtime: bin/java and a release file, which is all Drover reads of it. */
    private Path fakeJdk(String name, String version, String build) throws Exception {
        Path home = Files.createDirectories(dir.resolve(name));
        Path java = Files.writeString(Files.createDirectories(home.resolve("bin")).resolve("java"), "#!/bin/sh\n");
        java.toFile().setExecutable(true);
        Files.writeString(home.resolve("release"), "JAVA_VERSION=\"" + version + "\"\nJAVA_RUNTIME_VERSION=\""
                + version + "+" + build + "\"\n");
        return home;
    }

    private Settings onJava(Path home, List<String> classpath) throws Exception {
        return ConfigLoader.load(new ConfigSources(Optional.empty(),
                Map.of("DROVER_CDS_CACHE_DIR", dir.resolve("cache").toString()), List.of(
                new ConfigSources.Flag("drover.app", "dev.example.App", "argument APP"),
                new ConfigSources.Flag("drover.classpath", classpath, "flag --classpath"),
                new ConfigSources.Flag("drover.java-home", home.toString(), "flag --java-home"))));
    }

    @Test
    void workersOnJava25GetAnAotCacheNamedByTheirJdkBuild() throws Exception {
        Path app = Files.writeString(dir.resolve("app.jar"), "version 1");
        List<String> classpath = List.of(app.toString());
        CdsArchive aot = CdsArchive.plan(onJava(fakeJdk("jdk25", "25.0.3", "9"), classpath));
        assertEquals(CdsArchive.Kind.AOT_CACHE, aot.kind());
        assertTrue(aot.path().getFileName().toString().endsWith(".aot"), aot.path().toString());
        assertEquals(List.of("-XX:AOTCache=" + aot.path()), aot.kind().use(aot.path()));

        CdsArchive jsa = CdsArchive.plan(onJava(fakeJdk("jdk17", "17.0.15", "6"), classpath));
        assertEquals(CdsArchive.Kind.APPCDS, jsa.kind());
        assertTrue(jsa.path().getFileName().toString().endsWith(".jsa"), jsa.path().toString());

        fakeJdk("jdk25", "25.0.3", "10"); // the same path updated in place to another build
        assertNotEquals(aot.path(), CdsArchive.plan(onJava(dir.resolve("jdk25"), classpath)).path(),
                "another build of the JDK never maps the old cache");
        Files.writeString(app, "version 2");
        assertNotEquals(aot.path(), CdsArchive.plan(onJava(dir.resolve("jdk25"), classpath)).path(),
                "a changed jar never maps the old cache (JDK 25 would run its stale classes)");
    }

    @Test
    void aJarAppOnJava25KeepsAppCds() throws Exception {
        Settings settings = ConfigLoader.load(new ConfigSources(Optional.empty(), Map.of(), List.of(
                new ConfigSources.Flag("drover.app", thinJar(dir.resolve("app.jar"), "").toString(), "argument APP"),
                new ConfigSources.Flag("drover.java-home", fakeJdk("jdk25", "25", "1").toString(), "test"))));
        assertEquals(CdsArchive.Kind.APPCDS, CdsArchive.Kind.of(settings), "the agent rules the AOT cache out");
        assertEquals(List.of("--enable-native-access=ALL-UNNAMED"), settings.workerJava().options());
    }

    @Test
    void directoriesOnTheClasspathRuleItOut() throws Exception {
        Path classes = Files.createDirectories(dir.resolve("classes"));
        CdsArchive none = CdsArchive.plan(settings(List.of(classes.toString())));
        assertFalse(none.possible());
        assertEquals("classpath entry " + classes + " is a directory: AppCDS archives classes from jars only",
                none.whyNot());
    }

    /** A thin jar app: the jar, its manifest Class-Path lib/dep.jar, and the agent jar the launcher names. */
    private Settings jarApp(Path jar, String... jvmOptions) throws Exception {
        return ConfigLoader.load(new ConfigSources(Optional.empty(),
                Map.of("DROVER_CDS_CACHE_DIR", dir.resolve("cache").toString()), List.of(
                new ConfigSources.Flag("drover.app", jar.toString(), "argument APP"),
                new ConfigSources.Flag("drover.worker-jvm-options", List.of(jvmOptions), "test"))));
    }

    private static Path thinJar(Path jar, String classPath) throws Exception {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "com.example.Main");
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, classPath);
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream ignored = new JarOutputStream(out, manifest)) {
            // a manifest is enough
        }
        return jar;
    }

    @Test
    void aJarAppsArchiveIsNamedByItsJarItsClassPathTheAgentTheOptionsAndTheJvm() throws Exception {
        Path agent = Files.writeString(dir.resolve("drover-agent.jar"), "agent 1");
        String savedAgent = System.getProperty(dev.drover.supervisor.config.AppClasspath.AGENT_JAR_PROPERTY);
        System.setProperty(dev.drover.supervisor.config.AppClasspath.AGENT_JAR_PROPERTY, agent.toString());
        try {
            Path app = thinJar(dir.resolve("app.jar"), "lib/dep.jar lib/missing.jar");
            Path dep = Files.writeString(Files.createDirectories(dir.resolve("lib")).resolve("dep.jar"), "dep 1");
            CdsArchive first = CdsArchive.plan(jarApp(app, "-Xmx64m"));
            assertTrue(first.possible(), String.valueOf(first.whyNot()));
            assertEquals(first, CdsArchive.plan(jarApp(app, "-Xmx64m")), "stable for the same inputs");

            Files.writeString(dep, "dep 2");
            CdsArchive newDep = CdsArchive.plan(jarApp(app, "-Xmx64m"));
            assertNotEquals(first.path(), newDep.path(), "a jar of the manifest Class-Path changed");
            Files.writeString(agent, "agent 2");
            CdsArchive newAgent = CdsArchive.plan(jarApp(app, "-Xmx64m"));
            assertNotEquals(newDep.path(), newAgent.path(), "Drover's agent changed");
            assertNotEquals(newAgent.path(), CdsArchive.plan(jarApp(app, "-Xmx128m")).path(), "other JVM options");
            thinJar(app, "lib/dep.jar");
            CdsArchive newApp = CdsArchive.plan(jarApp(app, "-Xmx64m"));
            assertNotEquals(newAgent.path(), newApp.path(), "the app's own jar changed");

            Path extracted = thinJar(dir.resolve("extracted.jar"), "lib/dep.jar");
            assertNotEquals(newApp.path(), CdsArchive.plan(jarApp(app, "-Xmx64m"), extracted).path(),
                    "the jar workers run instead (a Spring Boot extraction) is what the archive is of");
        } finally {
            if (savedAgent == null) {
                System.clearProperty(dev.drover.supervisor.config.AppClasspath.AGENT_JAR_PROPERTY);
            } else {
                System.setProperty(dev.drover.supervisor.config.AppClasspath.AGENT_JAR_PROPERTY, savedAgent);
            }
        }
    }

    @Test
    void aMainClassAppsArchiveIsNamedByItsClasspathsJars() throws Exception {
        Path agent = Files.writeString(dir.resolve("drover-agent.jar"), "agent");
        String savedAgent = System.getProperty(dev.drover.supervisor.config.AppClasspath.AGENT_JAR_PROPERTY);
        System.setProperty(dev.drover.supervisor.config.AppClasspath.AGENT_JAR_PROPERTY, agent.toString());
        try {
            Path app = Files.writeString(dir.resolve("main.jar"), "version 1");
            Settings settings = settings(List.of(app.toString())).withAppKind(AppKind.MAIN_CLASS);
            CdsArchive first = CdsArchive.plan(settings);
            assertTrue(first.possible(), String.valueOf(first.whyNot()));
            Files.writeString(app, "version 2");
            assertNotEquals(first.path(), CdsArchive.plan(settings).path());
            Path classes = Files.createDirectories(dir.resolve("classes"));
            assertFalse(CdsArchive.plan(settings(List.of(classes.toString())).withAppKind(AppKind.MAIN_CLASS))
                    .possible(), "a directory of classes rules an archive out here too");
        } finally {
            if (savedAgent == null) {
                System.clearProperty(dev.drover.supervisor.config.AppClasspath.AGENT_JAR_PROPERTY);
            } else {
                System.setProperty(dev.drover.supervisor.config.AppClasspath.AGENT_JAR_PROPERTY, savedAgent);
            }
        }
    }

    @Test
    void aDirectoryOnTheManifestClassPathRulesItOut() throws Exception {
        Files.createDirectories(dir.resolve("conf"));
        Path app = thinJar(dir.resolve("app.jar"), "conf/");
        CdsArchive none = CdsArchive.plan(jarApp(app));
        assertFalse(none.possible());
        assertEquals("the manifest Class-Path of " + app + " names the directory " + dir.resolve("conf")
                + ": AppCDS archives classes from jars only", none.whyNot());
    }

    @Test
    void itCanBeTurnedOff() throws Exception {
        Settings off = ConfigLoader.load(new ConfigSources(Optional.empty(), Map.of("DROVER_CDS_ENABLED", "false"),
                List.of(new ConfigSources.Flag("drover.app", "dev.example.App", "argument APP"))));
        assertEquals("drover.cds.enabled = false", CdsArchive.plan(off).whyNot());
    }
}
