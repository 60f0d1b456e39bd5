package dev.drover.supervisor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * drover.app as a jar or a main class, app-args, and the start-time checks: configuration errors (exit 2) name the
 * key, value and origin; an app whose server cannot be driven is Refused (exit 4) with the reason.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ForeignAppCheckTest {

    @TempDir
    Path dir;

    /** A main class, as a plain embedded-server app has one. */
    public static final class ExampleMain {
        public static void main(String[] args) {
        }
    }

    /** Neither a DroverApp nor a main class. */
    public static final class NotAnApp {
    }

    /** A DroverApp, for app-args with a native app. */
    public static final class NativeApp implements dev.drover.worker.api.DroverApp {
        @Override
        public io.netty.channel.ChannelHandler newRequestHandler() {
            return null;
        }
    }

    @BeforeEach
    void anAgent() throws Exception {
        System.setProperty(AppClasspath.AGENT_JAR_PROPERTY, Files.writeString(dir.resolve("drover-agent.jar"), "")
                .toString());
    }

    @AfterEach
    void noAgent() {
        System.clearProperty(AppClasspath.AGENT_JAR_PROPERTY);
    }

    private Settings load(Map<String, String> env, Object... flagPairs) throws ConfigError {
        List<ConfigSources.Flag> flags = new ArrayList<>();
        for (int i = 0; i < flagPairs.length; i += 2) {
            flags.add(new ConfigSources.Flag("drover." + flagPairs[i], flagPairs[i + 1], "flag --" + flagPairs[i]));
        }
        return ConfigLoader.load(new ConfigSources(Optional.empty(), env, flags));
    }

    private Path tomcatJar() throws Exception {
        return TestJars.springBoot(dir.resolve("my-service.jar"), "tomcat-embed-core-10.1.48.jar");
    }

    private String problem(Settings settings) {
        ConfigError e = assertThrows(ConfigError.class, () -> AppCheck.verify(settings));
        assertFalse(e instanceof AppCheck.Refused, "a configuration error, not a refusal: " + e.getMessage());
        return e.getMessage();
    }

    private String refusal(Settings settings) {
        return assertInstanceOf(AppCheck.Refused.class, assertThrows(ConfigError.class, () -> AppCheck.verify(settings)))
                .getMessage();
    }

    @Test
    void aJarPathIsAJarAndAClassNameIsDecidedByLoadingIt() throws Exception {
        Path jar = tomcatJar();
        Settings s = AppCheck.verify(load(Map.of(), "app", jar.toString()));
        assertEquals(AppKind.JAR, s.appKind());
        assertEquals("my-service.jar", s.appLabel());
        assertEquals(AppKind.JAR, load(Map.of(), "app", "my-service.jar").appKind(), "relative, by its .jar");
        assertEquals(Path.of("my-service.jar").toAbsolutePath().toString(), load(Map.of(), "app", "my-service.jar").app());

        Path lib = Files.createDirectories(dir.resolve("lib"));
        Files.copy(jar, lib.resolve("tomcat-embed-core-10.1.48.jar"));
        Settings main = AppCheck.verify(load(Map.of(), "app", ExampleMain.class.getName(), "classpath",
                List.of(lib.toString())));
        assertEquals(AppKind.MAIN_CLASS, main.appKind());
        assertEquals(AppKind.DROVER_APP, AppCheck.verify(load(Map.of(), "app", NativeApp.class.getName())).appKind());
        assertTrue(problem(load(Map.of(), "app", NotAnApp.class.getName())).contains("neither implements "
                + "dev.drover.worker.api.DroverApp nor has a public static void main(String[])"));
    }

    @Test
    void appArgsComeFromTheFileAndTheFlagsReplaceThemWhole() throws Exception {
        Path conf = Files.writeString(dir.resolve("app.conf"), "drover { app-args = [\"--a=1\", \"--b=2\"] }\n");
        List<ConfigSources.Flag> app = List.of(new ConfigSources.Flag("drover.app", "x.jar", "argument APP"));
        assertEquals(List.of("--a=1", "--b=2"),
                ConfigLoader.load(new ConfigSources(Optional.of(conf), Map.of(), app)).appArgs());
        List<ConfigSources.Flag> flags = new ArrayList<>(app);
        flags.add(new ConfigSources.Flag("drover.app-args", List.of("--c=3"), "flag --app-arg"));
        assertEquals(List.of("--c=3"), ConfigLoader.load(new ConfigSources(Optional.of(conf), Map.of(), flags)).appArgs());
        assertEquals(List.of("x", "y"), load(Map.of("DROVER_APP_ARGS", "x, y"), "app", "x.jar").appArgs());
    }

    @Test
    void aNulInAnArgumentAndArgumentsForADroverAppAreRefused() throws Exception {
        String nul = assertThrows(ConfigError.class, () -> load(Map.of(), "app", "x.jar", "app-args",
                List.of("ok", "bad\0arg"))).getMessage();
        assertTrue(nul.startsWith("drover.app-args = [\"ok\",\"bad\\u0000arg\"] (command-line flag --app-args): an argument holds a "
                + "NUL character"), nul);
        assertTrue(problem(load(Map.of(), "app", NativeApp.class.getName(), "app-args", List.of("--x")))
                .contains("drover.app-args = [\"--x\"] (command-line flag --app-args): given for " + NativeApp.class.getName()
                        + ", a DroverApp class, whose start() takes no arguments"));
    }

    @Test
    void aJarAppNeedsExactlyOneTcpBind() throws Exception {
        String jar = tomcatJar().toString();
        assertTrue(problem(load(Map.of(), "app", jar, "bind", List.of("127.0.0.1:0", "127.0.0.1:0")))
                .startsWith("drover.bind = [\"127.0.0.1:0\", \"127.0.0.1:0\"] (command-line flag --bind): 2 addresses while "
                        + "drover.app is a jar (my-service.jar) (expected: exactly one TCP address"));
        assertTrue(problem(load(Map.of(), "app", jar, "bind", List.of("unix:/tmp/x.sock")))
                .contains("a Unix socket while drover.app is a jar (my-service.jar): Tomcat and Jetty take only a TCP "
                        + "socket"));
    }

    @Test
    void badJarsAreConfigurationErrors() throws Exception {
        assertTrue(problem(load(Map.of(), "app", dir.resolve("none.jar").toString()))
                .contains("drover.app = " + dir.resolve("none.jar") + " (command-line flag --app): cannot read " + dir.resolve("none.jar")
                        + ": No such file or directory (expected: an existing, readable jar whose META-INF/MANIFEST.MF "
                        + "names a Main-Class"));
        Path library = TestJars.jar(dir.resolve("library.jar"), new String[] {"Created-By", "test"}, "a/B.class");
        assertTrue(problem(load(Map.of(), "app", library.toString())).contains("its manifest names no Main-Class"));
        Path text = Files.writeString(dir.resolve("text.jar"), "not a zip");
        assertTrue(problem(load(Map.of(), "app", text.toString())).contains("not a jar (zip) file"));
        assertTrue(problem(load(Map.of("DROVER_CLASSPATH", dir.toString()), "app", tomcatJar().toString()))
                .contains("(environment variable DROVER_CLASSPATH): set while drover.app is a jar"));
    }

    @Test
    void settingsOnlyDroverAppWorkersUseAreRefusedForAJar() throws Exception {
        String jar = tomcatJar().toString();
        String http = problem(load(Map.of("DROVER_HTTP_MAX_HEADERS", "50"), "app", jar));
        assertTrue(http.startsWith("drover.http.max-headers (environment variable DROVER_HTTP_MAX_HEADERS): set while"),
                http);
    }

    /** The agent runs a foreign worker's warm-up through the app's own server. */
    @Test
    void aJarMayHaveAWarmUp() throws Exception {
        Settings settings = AppCheck.verify(load(Map.of("DROVER_WARMUP_PATHS", "[\"/hello\"]"), "app",
                tomcatJar().toString(), "warmup.requests", 100));
        assertEquals(100, settings.warmup().count());
        assertEquals(List.of("GET /hello"), settings.warmup().requests());
    }

    @Test
    void aServerDroverCannotDriveIsRefusedWithItsName() throws Exception {
        Path undertow = TestJars.springBoot(dir.resolve("undertow.jar"), "undertow-core-2.3.18.Final.jar");
        String refused = refusal(load(Map.of(), "app", undertow.toString()));
        assertTrue(refused.startsWith("drover.app = " + undertow + " (command-line flag --app): refused: its server is Undertow "
                + "(undertow-core-2.3.18.Final.jar in BOOT-INF/lib of " + undertow + "), which Drover cannot drive. "
                + "Drover drives Tomcat (tomcat-embed-core) and Jetty 12 (jetty-server 12.x)"), refused);

        Path none = TestJars.jar(dir.resolve("batch.jar"), TestJars.main("com.example.Batch"), "com/example/Batch.class");
        String nothing = refusal(load(Map.of(), "app", none.toString()));
        assertTrue(nothing.contains("refused: no server Drover can drive was found: looked for tomcat-embed-core and "
                + "jetty-server 12 jars and their connector classes in the 0 jar(s) nested in " + none), nothing);
    }

    @Test
    void aMissingAgentIsARefusal() throws Exception {
        System.setProperty(AppClasspath.AGENT_JAR_PROPERTY, dir.resolve("no-agent.jar").toString());
        String refused = refusal(load(Map.of(), "app", tomcatJar().toString()));
        assertTrue(refused.contains("refused: Drover's agent, which every worker of a jar or main-class app runs with, "
                + "is missing: " + dir.resolve("no-agent.jar")), refused);
    }
}
