package dev.drover.supervisor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    private static final ConfigSources.Flag APP = new ConfigSources.Flag("drover.app", "dev.example.App", "argument APP");

    private Settings load(Optional<Path> file, Map<String, String> env, ConfigSources.Flag... flags) throws ConfigError {
        return ConfigLoader.load(new ConfigSources(file, env, List.of(flags)));
    }

    private Path file(String... lines) throws Exception {
        return Files.writeString(dir.resolve("app.conf"), String.join("\n", lines) + "\n");
    }

    private String problem(Optional<Path> file, Map<String, String> env, ConfigSources.Flag... flags) {
        return assertThrows(ConfigError.class, () -> load(file, env, flags)).getMessage();
    }

    @Test
    void defaultsComeFromReferenceConf() throws Exception {
        Settings s = load(Optional.empty(), Map.of(), APP);
        assertEquals(List.of(new BindAddress.Tcp("127.0.0.1", 8000)), s.bind());
        assertEquals(2048, s.backlog());
        assertEquals(1, s.workers());
        assertEquals(Duration.ofSeconds(30), s.gracefulTimeout());
        assertEquals(Optional.empty(), s.pidfile());
        assertEquals(0660, s.unixSocketMode());
        assertEquals("the default in reference.conf", s.origin("workers"));
    }

    @Test
    void javaHomeIsTheMastersByDefaultAndAnotherIsCheckedBeforeAnythingStarts() throws Exception {
        assertEquals(Path.of(System.getProperty("java.home")), load(Optional.empty(), Map.of(), APP).workerJava().home());
        Path notJava = Files.createDirectories(dir.resolve("not-a-jdk"));
        String problem = problem(Optional.empty(), Map.of(), APP,
                new ConfigSources.Flag("drover.java-home", notJava.toString(), "flag --java-home"));
        assertTrue(problem.contains("drover.java-home"), problem);
        assertTrue(problem.contains(notJava.toString()), problem);
        assertTrue(problem.contains("flag --java-home"), problem);
        assertTrue(problem.contains("no executable bin/java"), problem);
        assertTrue(problem.contains("Java 17 or later runtime"), problem);

        Path old = Files.createDirectories(notJava.resolve("bin"));
        Files.writeString(old.resolve("java"), "").toFile().setExecutable(true);
        Files.writeString(notJava.resolve("release"), "JAVA_VERSION=\"1.8.0_412\"\n");
        Path conf = file("drover {", "  java-home = \"" + notJava + "\"", "}");
        String tooOld = problem(Optional.of(conf), Map.of(), APP);
        assertTrue(tooOld.contains("Java 8, older than the 17"), tooOld);
        assertTrue(tooOld.contains(conf + ":2"), tooOld);

        Files.writeString(notJava.resolve("release"), "JAVA_VERSION=\"25.0.3\"\n");
        Settings on25 = load(Optional.of(conf), Map.of(), APP);
        assertEquals(25, on25.workerJava().feature());
        assertEquals(notJava.resolve("bin/java"), on25.workerJava().java());
    }

    @Test
    void metricsBindIsOffByDefaultAndNeverTheServicesOwnAddress() throws Exception {
        assertEquals(Optional.empty(), load(Optional.empty(), Map.of(), APP).metrics().bind());
        Path conf = file("drover {", "  bind = [\"127.0.0.1:9100\"]", "  metrics.bind = \"127.0.0.1:9100\"", "}");
        String problem = problem(Optional.of(conf), Map.of(), APP);
        assertTrue(problem.contains("drover.metrics.bind"), problem);
        assertTrue(problem.contains(conf + ":3"), problem);
        assertTrue(problem.contains("the service's own address"), problem);
        Settings unix = load(Optional.empty(), Map.of(), APP,
                new ConfigSources.Flag("drover.metrics.bind", "unix:/tmp/m.sock", "flag --metrics-bind"));
        assertEquals(Optional.of(new BindAddress.Unix(Path.of("/tmp/m.sock"))), unix.metrics().bind());
        assertTrue(problem(Optional.empty(), Map.of(), APP, new ConfigSources.Flag("drover.metrics.bind", "fd://3",
                "flag --metrics-bind")).contains("flag --metrics-bind"));
    }

    @Test
    void fileThenEnvironmentThenFlagsWin() throws Exception {
        Path conf = file("drover {", "  workers = 3", "  backlog = 100", "  graceful-timeout = 10s", "}");
        Settings fromFile = load(Optional.of(conf), Map.of(), APP);
        assertEquals(3, fromFile.workers());
        assertEquals(conf + ":2", fromFile.origin("workers"));

        Settings fromEnv = load(Optional.of(conf), Map.of("DROVER_WORKERS", "5", "DROVER_GRACEFUL_TIMEOUT", "2m"), APP);
        assertEquals(5, fromEnv.workers());
        assertEquals(Duration.ofMinutes(2), fromEnv.gracefulTimeout());
        assertEquals(100, fromEnv.backlog());
        assertEquals("environment variable DROVER_WORKERS", fromEnv.origin("workers"));

        Settings fromFlags = load(Optional.of(conf), Map.of("DROVER_WORKERS", "5"), APP,
                new ConfigSources.Flag("drover.workers", "7", "flag -w/--workers"));
        assertEquals(7, fromFlags.workers());
        assertEquals("flag -w/--workers", fromFlags.origin("workers").replace("command-line ", ""));
    }

    @Test
    void listsFromTheEnvironmentAreCommaSeparatedOrHocon() throws Exception {
        Settings commas = load(Optional.empty(), Map.of("DROVER_BIND", "127.0.0.1:1, unix:/tmp/a.sock"), APP);
        assertEquals(List.of(new BindAddress.Tcp("127.0.0.1", 1), new BindAddress.Unix(Path.of("/tmp/a.sock"))),
                commas.bind());
        Settings hocon = load(Optional.empty(), Map.of("DROVER_WORKER_JVM_OPTIONS", "[\"-Xmx1g\", \"-Da=b,c\"]"), APP);
        assertEquals(List.of("-Xmx1g", "-Da=b,c"), hocon.workerJvmOptions());
    }

    @Test
    void variablesThatAreNotSettingsAreLeftAlone() throws Exception {
        load(Optional.empty(), Map.of("DROVER_NO_BUILD", "1", "DROVER_INTERNAL_ID", "3", "HOME", "/root"), APP);
    }

    @Test
    void everyProblemNamesKeyValueOriginAndExpectation() throws Exception {
        Path conf = file("drover {", "  workers = four", "  backlog = 0", "  graceful-timeout = soon", "}");
        String message = problem(Optional.of(conf), Map.of(), APP);
        assertTrue(message.contains("drover.workers = \"four\" (" + conf + ":2): not a whole number (expected: a whole number >= 1 or auto)"), message);
        assertTrue(message.contains("drover.backlog = 0 (" + conf + ":3): out of range (expected: a whole number >= 1)"), message);
        assertTrue(message.contains("drover.graceful-timeout = \"soon\" (" + conf + ":4): not a duration"), message);
    }

    @Test
    void httpLimitsHaveDefaultsAreCheckedAndReachTheWorkers() throws Exception {
        HttpSettings defaults = load(Optional.empty(), Map.of(), APP).http();
        assertEquals(new HttpSettings(8192, 32768, 100, 1 << 20, Duration.ofSeconds(60), Duration.ofSeconds(60),
                Duration.ofSeconds(75), 10_000), defaults);
        Path conf = file("drover.http {", "  max-header-size = 16K", "  idle-timeout = 5s", "}");
        HttpSettings set = load(Optional.of(conf), Map.of("DROVER_HTTP_MAX_CONNECTIONS", "50"), APP).http();
        assertEquals(16384, set.maxHeaderSize());
        assertEquals("5000", set.workerEnvironment().get("DROVER_INTERNAL_HTTP_IDLE_TIMEOUT_MS"));
        assertEquals("50", set.workerEnvironment().get("DROVER_INTERNAL_HTTP_MAX_CONNECTIONS"));
        Path bad = file("drover.http {", "  max-request-line = 10", "  max-body-size = 3G", "  header-timeout = 0s",
                "  max-headers = lots", "}");
        String message = problem(Optional.of(bad), Map.of(), APP);
        assertTrue(message.contains("drover.http.max-request-line = 10 (" + bad + ":2): out of range (expected: a size"
                + " such as 8K or 1M, from 64 bytes to 2047M)"), message);
        assertTrue(message.contains("drover.http.max-body-size = \"3G\" (" + bad + ":3): out of range"), message);
        assertTrue(message.contains("drover.http.header-timeout = \"0s\" (" + bad + ":4): zero"), message);
        assertTrue(message.contains("drover.http.max-headers = \"lots\" (" + bad + ":5): not a whole number"), message);
    }

    @Test
    void warmupIsOffByDefaultAndItsRequestsAreChecked() throws Exception {
        WarmupSettings off = load(Optional.empty(), Map.of(), APP).warmup();
        assertEquals(new WarmupSettings(0, List.of("GET /"), Duration.ofSeconds(10)), off);
        Path good = file("drover.warmup { requests = 500, paths = [\"/\", \"HEAD /health\"], time-limit = 2s }");
        assertEquals(new WarmupSettings(500, List.of("GET /", "HEAD /health"), Duration.ofSeconds(2)),
                load(Optional.of(good), Map.of(), APP).warmup());
        Path bad = file("drover.warmup {", "  requests = 10", "  paths = [\"health\"]", "}");
        String message = problem(Optional.of(bad), Map.of(), APP);
        assertTrue(message.contains("drover.warmup.paths = [\"health\"] (" + bad + ":3): not a request: \"health\" "
                + "(expected: a list of \"/path\" or \"METHOD /path\""), message);
        assertTrue(problem(Optional.empty(), Map.of("DROVER_WARMUP_REQUESTS", "-1"), APP)
                .contains("drover.warmup.requests = \"-1\" (environment variable DROVER_WARMUP_REQUESTS): out of range"));
    }

    @Test
    void unknownKeysAreRefusedWithTheirLine() throws Exception {
        Path conf = file("drover {", "  workers = 2", "  max-request = 10", "}", "myapp { anything = 1 }");
        String message = problem(Optional.of(conf), Map.of(), APP);
        assertTrue(message.startsWith("drover.max-request = 10 (" + conf + ":3): unknown key (expected: one of ["), message);
        assertEquals(1, message.lines().count(), "the app's own section is not Drover's business: " + message);
    }

    @Test
    void unknownEnvironmentVariableIsRefused() {
        String message = problem(Optional.empty(), Map.of("DROVER_WROKERS", "2"), APP);
        assertTrue(message.startsWith("environment variable DROVER_WROKERS = 2: no such setting (expected one of: "), message);
        assertTrue(message.contains("DROVER_WORKERS"), message);
    }

    @Test
    void badFlagValuesNameTheFlag() {
        String message = problem(Optional.empty(), Map.of(), APP,
                new ConfigSources.Flag("drover.bind", List.of("127.0.0.1:8000", "nonsense:port"), "flag -b/--bind"));
        assertTrue(message.contains("drover.bind = [\"127.0.0.1:8000\",\"nonsense:port\"] (command-line flag -b/--bind): "
                + "malformed address \"nonsense:port\" (expected: HOST:PORT"), message);
    }

    @Test
    void appIsRequiredAndMustLookLikeAClassName() {
        assertTrue(problem(Optional.empty(), Map.of()).contains("drover.app = \"\" (the default in reference.conf): no application given"));
        assertTrue(problem(Optional.empty(), Map.of(), new ConfigSources.Flag("drover.app", "not a class", "argument APP"))
                .contains("neither a Java class name nor a jar's path"));
    }

    @Test
    void missingAndBrokenFilesAreReported() throws Exception {
        assertTrue(problem(Optional.of(dir.resolve("none.conf")), Map.of(), APP).contains("cannot read it"));
        Path broken = file("drover { workers = [1, }");
        assertTrue(problem(Optional.of(broken), Map.of(), APP).startsWith("config file " + broken + ": "));
    }

    @Test
    void fileModeIsOctal() throws Exception {
        Path conf = file("drover.unix-socket-mode = \"0600\"");
        assertEquals(0600, load(Optional.of(conf), Map.of(), APP).unixSocketMode());
        Path bad = file("drover.unix-socket-mode = 999");
        assertTrue(problem(Optional.of(bad), Map.of(), APP).contains("not a file mode (expected: three octal digits"));
    }

    @Test
    void workersAutoIsWorkedOutAndReported() throws Exception {
        Settings s = load(Optional.of(file("drover {", "  workers = auto", "}")), Map.of(), APP);
        assertTrue(s.workers() >= 1);
        assertTrue(s.container().autoWorkers().orElseThrow().found()
                .startsWith("drover.workers = auto: " + s.workers() + " worker(s)"));
        assertEquals(Optional.empty(), load(Optional.empty(), Map.of(), APP).container().autoWorkers());
    }

    @Test
    void badWorkersAndShutdownDelayNameKeyValueAndOrigin() throws Exception {
        Path conf = file("drover {", "  workers = lots", "  shutdown-delay = -1s", "}");
        String problem = problem(Optional.of(conf), Map.of(), APP);
        assertTrue(problem.contains("drover.workers = \"lots\" (" + conf + ":2): not a whole number (expected: a "
                + "whole number >= 1 or auto)"), problem);
        assertTrue(problem.contains("drover.shutdown-delay = \"-1s\" (" + conf + ":3): negative"), problem);
        assertEquals(java.time.Duration.ofSeconds(5), load(Optional.empty(), Map.of("DROVER_SHUTDOWN_DELAY", "5s"),
                APP).container().shutdownDelay());
    }
}
