package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A jar rewritten by {@link Jars} is the same jar but for one entry, and still runs as the app's next release. */
class JarsTest {

    /** Spring Boot's "Tomcat started on port 41234 (http)"; Jetty's "ServerConnector@...{0.0.0.0:41234}". */
    private static final Pattern PORT = Pattern.compile("(?:Tomcat started on port |\\{0\\.0\\.0\\.0:)(\\d+)");

    /** A Spring Boot start takes 2 to 5 s here, with other builds running beside it. */
    private static final Duration STARTUP = Duration.ofSeconds(40);

    @TempDir
    Path dir;

    @Test
    @Timeout(30)
    void theCopyKeepsEveryOtherEntryWithItsCompressionMethod() throws IOException {
        Path source = Examples.SPRING_BOOT.jar();
        Path copy = dir.resolve("app.jar");
        String entry = Examples.SPRING_BOOT.versionEntry();
        Jars.copyWithProperty(source, copy, entry, Examples.VERSION_KEY, "2");

        List<ZipEntry> before = entries(source);
        List<ZipEntry> after = entries(copy);
        assertEquals(before.size(), after.size(), "entries");
        for (int i = 0; i < before.size(); i++) {
            ZipEntry was = before.get(i);
            ZipEntry is = after.get(i);
            assertEquals(was.getName(), is.getName(), "entry " + i);
            assertEquals(was.getMethod(), is.getMethod(), "compression method of " + was.getName());
            if (!was.getName().equals(entry)) {
                assertEquals(was.getCrc(), is.getCrc(), "CRC of " + was.getName());
            }
        }
        String properties = new String(Jars.read(copy, entry), StandardCharsets.ISO_8859_1);
        assertTrue(properties.contains("\nexample.version=2\n"), properties);
        assertTrue(properties.contains("server.port=8080"), "the other lines stay: " + properties);
    }

    @Test
    @Timeout(60)
    void aSpringBootCopyRunsAsTheNewVersion() throws Exception {
        Path copy = dir.resolve("spring-boot-example-2.jar");
        Jars.copyWithProperty(Examples.SPRING_BOOT.jar(), copy, Examples.SPRING_BOOT.versionEntry(),
                Examples.VERSION_KEY, "2");
        // C1 only and the serial collector: the start, not the peak speed, is what this test waits for.
        assertServesVersion2(Examples.SPRING_BOOT, List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar",
                copy.toString(), "--server.port=0", "--example.warmup-ms=0"));
    }

    @Test
    @Timeout(60)
    void aThinJarCopyRunsAsTheNewVersionWithItsLibrariesLinked() throws Exception {
        Path copy = dir.resolve("jetty-example-2.jar");
        Jars.copyWithProperty(Examples.JETTY.jar(), copy, Examples.JETTY.versionEntry(), Examples.VERSION_KEY, "2");
        Jars.linkLibraries(Examples.JETTY.jar(), dir);
        assertServesVersion2(Examples.JETTY, List.of("-Dport=0", "-jar", copy.toString()));
    }

    private static void assertServesVersion2(Examples example, List<String> args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(args);
        Process app = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> output = Collections.synchronizedList(new ArrayList<>());
        try {
            int port = portOf(app, output).get(STARTUP.toMillis(), TimeUnit.MILLISECONDS);
            assertEquals("2\n", Http.get(port, "/version").body());
            String hello = Http.get(port, "/hello").body();
            assertTrue(hello.startsWith(example.greeting("2")), hello);
        } catch (TimeoutException e) {
            fail("the app did not name its port within " + STARTUP + "; output:\n" + String.join("\n", output));
        } finally {
            app.destroyForcibly();
            app.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * Reads the app's output on a thread of its own (a blocked read cannot be interrupted) until the app exits:
     * the port once it is named, or a failure naming the exit code when the app exits first.
     */
    private static CompletableFuture<Integer> portOf(Process app, List<String> output) {
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = app.inputReader(StandardCharsets.UTF_8)) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    output.add(line);
                    Matcher named = PORT.matcher(line);
                    if (named.find()) {
                        port.complete(Integer.parseInt(named.group(1)));
                    }
                }
            } catch (IOException e) {
                port.completeExceptionally(e);
            }
            port.completeExceptionally(new IllegalStateException("the app exited ("
                    + app.onExit().join().exitValue() + ") before naming its port:\n" + String.join("\n", output)));
        }, "app-output-" + app.pid());
        reader.setDaemon(true);
        reader.start();
        return port;
    }

    private static List<ZipEntry> entries(Path jar) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return Collections.list(zip.entries()).stream().map(ZipEntry::new).toList();
        }
    }
}
