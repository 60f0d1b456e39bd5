package dev.drover.supervisor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The app's classpath as the worker gets it, path problems with the OS's reason, and the worker JVM's options. */
class AppCheckTest {

    @TempDir
    Path dir;

    private Settings settings(Map<String, String> env) throws ConfigError {
        return ConfigLoader.load(new ConfigSources(Optional.empty(), env,
                List.of(new ConfigSources.Flag("drover.app", "dev.example.App", "argument APP"))));
    }

    @Test
    void aDirectoryOfJarsIsItsJarsAndAMixedOneIsBoth() throws Exception {
        Path jars = Files.createDirectories(dir.resolve("lib"));
        Files.writeString(jars.resolve("a.jar"), "");
        Files.writeString(jars.resolve("B.JAR"), "");
        assertEquals(List.of(jars + "/*"), AppClasspath.expand(jars));

        Path mixed = Files.createDirectories(dir.resolve("mixed"));
        Files.writeString(mixed.resolve("a.jar"), "");
        Files.createDirectories(mixed.resolve("com/example"));
        assertEquals(List.of(mixed.toString(), mixed + "/*"), AppClasspath.expand(mixed));

        Path classes = Files.createDirectories(dir.resolve("classes/com"));
        assertEquals(List.of(classes.getParent().toString()), AppClasspath.expand(classes.getParent()));
    }

    @Test
    void theWildcardAndJarsPassAsTheyAreButAbsolute() {
        assertEquals(List.of(dir + "/lib/*", dir + "/app.jar"),
                AppClasspath.entries(List.of(dir.resolve("lib/*"), dir.resolve("app.jar"))));
        assertEquals(List.of(Path.of("").toAbsolutePath() + "/lib/*"), AppClasspath.entries(List.of(Path.of("lib/*"))));
    }

    @Test
    void everyUnusablePathSaysWhyInTheOsWords() throws Exception {
        Path file = Files.writeString(dir.resolve("app.jar"), "");
        Path lib = Files.createDirectories(dir.resolve("lib"));
        String list = String.join(",", dir.resolve("none.jar").toString(), file + "/*", file + "/x.jar",
                dir.resolve("nodir/*").toString(), lib + "/*");
        List<String> problems = AppCheck.classpathProblems(settings(Map.of("DROVER_CLASSPATH", list)));
        assertEquals(4, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("(environment variable DROVER_CLASSPATH): cannot read "
                + dir.resolve("none.jar") + ": No such file or directory (expected: existing, readable jars, "
                + "directories or DIR/* (the jars in DIR))"), problems.get(0));
        assertTrue(problems.get(1).endsWith("cannot list the directory of " + file + "/*: Not a directory (expected: "
                + "existing, readable jars, directories or DIR/* (the jars in DIR))"), problems.get(1));
        assertTrue(problems.get(2).contains("cannot read " + file + "/x.jar: Not a directory"), problems.get(2));
        assertTrue(problems.get(3).contains("cannot list the directory of " + dir.resolve("nodir/*")
                + ": No such file or directory"), problems.get(3));
    }

    @Test
    void errnosTheJdkTurnsIntoExceptionTypesGetTheirWordsBack() {
        // Root reads a mode-000 directory anyway (and the tests run as root here), so the mapping is tested directly.
        assertEquals("Permission denied", PathErrors.reason(new java.nio.file.AccessDeniedException("/x")));
        assertEquals("Too many levels of symbolic links",
                PathErrors.reason(new java.nio.file.FileSystemException("/x", null, "Too many levels of symbolic links")));
    }

    /** An app once removed: its superclass implements an interface that extends the app interface. */
    interface Greeter extends dev.drover.worker.api.DroverApp {
    }

    abstract static class BaseApp implements Greeter {
    }

    static final class SubApp extends BaseApp {
        @Override
        public io.netty.channel.ChannelHandler newRequestHandler() {
            return null;
        }
    }

    @Test
    void theAppInterfaceIsFoundByNameThroughSuperclassesAndInterfaces() {
        assertEquals(dev.drover.worker.api.DroverApp.class.getName(), AppCheck.APP_INTERFACE);
        assertTrue(AppCheck.implementsApp(SubApp.class));
        assertTrue(!AppCheck.implementsApp(String.class) && !AppCheck.implementsApp(Runnable.class));
    }

    @Test
    void theWorkerJvmSaysWhichOptionItRefuses() {
        assertEquals(Optional.of("\"Unrecognized VM option 'NoSuchOption'\""),
                JvmOptionsCheck.complaint(List.of("-Xms16m", "-XX:+NoSuchOption")));
        assertEquals(Optional.of("\"Too small maximum heap\""), JvmOptionsCheck.complaint(List.of("-Xmx1k")));
        assertEquals(Optional.of("\"The Java thread stack size specified is too small. Specify at least 136k\""),
                JvmOptionsCheck.complaint(List.of("-Xss1k")));
    }

    @Test
    void theDefaultOptionsPass() throws Exception {
        // What the check costs (a JVM start, ~25 ms here) is measured by hand, not asserted: see the closing note.
        assertEquals(Optional.empty(), JvmOptionsCheck.complaint(settings(Map.of()).workerJvmOptions()));
    }

    @Test
    void optionsWithEffectsOutsideTheCheckAreLeftToTheWorkers() throws Exception {
        Path gcLog = Files.writeString(dir.resolve("gc.log"), "the workers' log\n");
        assertEquals(Optional.empty(), JvmOptionsCheck.complaint(List.of("-Xlog:gc:file=" + gcLog,
                "-XX:+AlwaysPreTouch", "-Xms4g")));
        assertEquals("the workers' log\n", Files.readString(gcLog), "not rotated by the check");
        assertEquals(List.of("gc.log"), Files.list(dir).map(p -> p.getFileName().toString()).toList());
    }
    @Test
    void acceptedOptionsAreRememberedUntilAFileTheyNameChanges() throws Exception {
        Path agent = Files.writeString(dir.resolve("agent.jar"), "version 1");
        long now = System.currentTimeMillis();
        Files.setLastModifiedTime(agent, java.nio.file.attribute.FileTime.fromMillis(now - 60_000));
        List<String> options = List.of("-Xmx64m", "-Ddrover.test.agent=" + agent);
        int before = JvmOptionsCheck.STARTS.get();
        assertEquals(Optional.empty(), JvmOptionsCheck.complaint(options));
        assertEquals(Optional.empty(), JvmOptionsCheck.complaint(options));
        assertEquals(before + 1, JvmOptionsCheck.STARTS.get(), "the same options naming the same file: one JVM start");

        Files.writeString(agent, "version 2"); // the same size and inode: only the modification time tells
        Files.setLastModifiedTime(agent, java.nio.file.attribute.FileTime.fromMillis(now - 30_000));
        assertEquals(Optional.empty(), JvmOptionsCheck.complaint(options));
        assertEquals(before + 2, JvmOptionsCheck.STARTS.get(), "a file they name changed: asked again");

        Files.writeString(agent, "version 3"); // just written: its stamp may not show the next change
        JvmOptionsCheck.complaint(options);
        JvmOptionsCheck.complaint(options);
        assertEquals(before + 4, JvmOptionsCheck.STARTS.get(), "a file modified just now: asked every time");

        List<String> refused = List.of("-XX:+NoSuchOption");
        assertTrue(JvmOptionsCheck.complaint(refused).isPresent());
        assertTrue(JvmOptionsCheck.complaint(refused).isPresent());
        assertEquals(before + 6, JvmOptionsCheck.STARTS.get(), "a refusal is never remembered");
    }

    @Test
    void theFilesOptionsNameAreFoundInTheirParts() throws Exception {
        Path jar = Files.writeString(dir.resolve("a.jar"), "a");
        Path lib = Files.writeString(dir.resolve("b.so"), "b");
        Path args = Files.writeString(dir.resolve("args"), "-Xmx64m");
        List<Path> named = JvmOptionsCheck.namedFiles(List.of("-javaagent:" + jar + "=x,y", "-agentpath:" + lib,
                "@" + args, "-Xbootclasspath/a:" + jar + ":" + dir, "-Xmx64m", "-Dmissing=" + dir.resolve("none")))
                .stream().map(FileStamp::path).toList();
        assertEquals(List.of(jar, lib, args, jar), named.subList(named.size() - 4, named.size()),
                "each file once per mention; a directory or a missing file is none");
        assertTrue(named.contains(JvmOptionsCheck.JAVA), "the java binary is part of every verdict");
        Path gcLog = Files.writeString(dir.resolve("gc.log"), "written by the workers");
        assertTrue(JvmOptionsCheck.namedFiles(List.of("-Xlog:gc:file=" + gcLog)).stream()
                .noneMatch(stamp -> stamp.path().equals(gcLog)), "an option the check leaves out names nothing");
    }

    @Test
    void aStampIsForRegularFilesAndSettlesAfterSeconds() throws Exception {
        Path file = Files.writeString(dir.resolve("f"), "x");
        assertFalse(FileStamp.of(file).orElseThrow().settled(), "modified just now");
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 10_000));
        assertTrue(FileStamp.of(file).orElseThrow().settled());
        assertTrue(FileStamp.of(dir).isEmpty() && FileStamp.of(dir.resolve("none")).isEmpty()
                && FileStamp.of("").isEmpty() && FileStamp.of("a\u0000b").isEmpty());
    }
}
