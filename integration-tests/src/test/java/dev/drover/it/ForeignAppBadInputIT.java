package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A jar app (APP = a path to an executable jar) that cannot run, through the real launcher: a server Drover cannot
 * drive, or none, is refused with exit code 4 and the reason; a bad setting around it (two binds, a missing jar, an
 * app argument for a DroverApp, a classpath beside a jar) is exit code 2 naming the key, value and origin. Nothing is
 * spawned in any case. The jars are made here, laid out as Spring Boot and plain jars are; no agent is needed.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ForeignAppBadInputIT {

    /** The launcher's tests export the sample app as DROVER_CLASSPATH; a jar app must have none. */
    private static final Map<String, String> NO_CLASSPATH = Map.of("DROVER_CLASSPATH", "");

    @TempDir
    Path dir;

    private DroverProcess.Result drover(Map<String, String> env, String... args) throws Exception {
        return DroverProcess.run(List.of(args), env, Duration.ofSeconds(60));
    }

    /** A Spring Boot fat jar's layout: the launcher as Main-Class, the app's libraries in BOOT-INF/lib. */
    private Path springBootJar(String name, String... libs) throws Exception {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "org.springframework.boot.loader.launch.JarLauncher");
        manifest.getMainAttributes().putValue("Start-Class", "com.example.DemoApplication");
        Path jar = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream zip = new JarOutputStream(out, manifest)) {
            zip.putNextEntry(new ZipEntry("BOOT-INF/classes/com/example/DemoApplication.class"));
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry("BOOT-INF/lib/spring-boot-3.5.7.jar"));
            zip.closeEntry();
            for (String lib : libs) {
                zip.putNextEntry(new ZipEntry("BOOT-INF/lib/" + lib));
                zip.closeEntry();
            }
        }
        return jar;
    }

    private static void assertExit(int code, DroverProcess.Result result, String... fragments) {
        assertEquals(code, result.exitCode(), result.output());
        assertFalse(result.spawnedAnyWorker(), "no worker may be spawned: " + result.output());
        for (String fragment : fragments) {
            assertTrue(result.output().contains(fragment), "expected \"" + fragment + "\" in:\n" + result.output());
        }
    }

    @Test
    void anUndertowAppIsRefusedWithExitCode4NamingItsServer() throws Exception {
        Path jar = springBootJar("undertow-service.jar", "undertow-core-2.3.18.Final.jar",
                "undertow-servlet-2.3.18.Final.jar");
        assertExit(4, drover(NO_CLASSPATH, "-b", "127.0.0.1:0", jar.toString()),
                "drover: drover.app = " + jar + " (command-line argument APP): refused: its server is Undertow "
                        + "(undertow-core-2.3.18.Final.jar in BOOT-INF/lib of " + jar + "), which Drover cannot drive.",
                "Drover drives Tomcat (tomcat-embed-core) and Jetty 12 (jetty-server 12.x)",
                "spring-boot-starter-web for Tomcat, or spring-boot-starter-jetty");
    }

    @Test
    void aJarWithoutAServerIsRefusedWithExitCode4SayingWhereDroverLooked() throws Exception {
        Path jar = springBootJar("batch-job.jar");
        assertExit(4, drover(NO_CLASSPATH, "-b", "127.0.0.1:0", jar.toString()),
                "refused: no server Drover can drive was found: looked for tomcat-embed-core and jetty-server 12 jars "
                        + "and their connector classes in the 1 jar(s) nested in " + jar,
                "the class entries of " + jar, "the manifest Class-Path of " + jar + " (it has none)");
    }

    @Test
    void aJarAppWithTwoBindsOrAUnixSocketIsExitCode2NamingTheBindSetting() throws Exception {
        Path jar = springBootJar("my-service.jar", "tomcat-embed-core-10.1.48.jar");
        assertExit(2, drover(NO_CLASSPATH, "-b", "127.0.0.1:0", "-b", "127.0.0.1:0", jar.toString()),
                "drover: drover.bind = [\"127.0.0.1:0\", \"127.0.0.1:0\"] (command-line flag -b/--bind): 2 addresses "
                        + "while drover.app is a jar (my-service.jar) (expected: exactly one TCP address (HOST:PORT) "
                        + "for a jar or main-class app: its server gets the one socket on its fd 0)");
        assertExit(2, drover(NO_CLASSPATH, "-b", "unix:" + dir.resolve("s.sock"), jar.toString()),
                "drover.bind = [\"unix:" + dir.resolve("s.sock") + "\"] (command-line flag -b/--bind): a Unix socket "
                        + "while drover.app is a jar (my-service.jar): Tomcat and Jetty take only a TCP socket");
        assertFalse(Files.exists(dir.resolve("s.sock")), "nothing was bound");
    }

    @Test
    void aMissingJarOrAJarWithoutMainClassIsExitCode2() throws Exception {
        Path missing = dir.resolve("gone.jar");
        assertExit(2, drover(NO_CLASSPATH, "-b", "127.0.0.1:0", missing.toString()),
                "drover: drover.app = " + missing + " (command-line argument APP): cannot read " + missing
                        + ": No such file or directory (expected: an existing, readable jar whose META-INF/MANIFEST.MF "
                        + "names a Main-Class (as java -jar needs))");
        Path notZip = Files.writeString(dir.resolve("notes.jar"), "not a jar");
        assertExit(2, drover(NO_CLASSPATH, notZip.toString()), "drover.app = " + notZip
                + " (command-line argument APP): not a jar (zip) file");
    }

    @Test
    void anAppArgumentForADroverAppIsExitCode2AndSoIsAMissingOne() throws Exception {
        assertExit(2, drover(Map.of(), "--app-arg=--spring.profiles.active=prod", "--app-arg", "second",
                "dev.drover.sample.SampleApp"),
                "drover: drover.app-args = [\"--spring.profiles.active=prod\", \"second\"] (command-line flag "
                        + "--app-arg): given for dev.drover.sample.SampleApp, a DroverApp class, whose start() takes no "
                        + "arguments (expected: no app-args for a DroverApp");
        assertExit(2, drover(Map.of(), "dev.drover.sample.SampleApp", "--app-arg"),
                "Missing required parameter for option '--app-arg'");
    }

    @Test
    void aClasspathBesideAJarIsExitCode2() throws Exception {
        Path jar = springBootJar("my-service.jar", "tomcat-embed-core-10.1.48.jar");
        // DroverProcess exports the sample app's jar as DROVER_CLASSPATH, as a user might have it in the shell.
        assertExit(2, drover(Map.of(), "-b", "127.0.0.1:0", jar.toString()),
                "(environment variable DROVER_CLASSPATH): set while drover.app is a jar (" + jar
                        + "), whose class path is its manifest's: java -jar ignores any other");
    }

    @Test
    void aGoodJarPassesTheChecksOrIsRefusedOnlyForAMissingAgent() throws Exception {
        Path jar = springBootJar("my-service.jar", "tomcat-embed-core-10.1.48.jar");
        DroverProcess.Result result = drover(NO_CLASSPATH, "--check-config", "-w", "3", "-b", "127.0.0.1:0",
                "--app-arg=--server.port=9999", jar.toString());
        Path agent = DroverProcess.HOME.resolve("agent/target/drover-agent.jar");
        if (Files.isRegularFile(agent)) {
            assertExit(0, result, "drover: configuration OK (3 worker(s) of my-service.jar on [127.0.0.1:0])");
        } else {
            assertExit(4, result, "refused: Drover's agent, which every worker of a jar or main-class app runs with, "
                    + "is missing: " + agent);
        }
    }
}
