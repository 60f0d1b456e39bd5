package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * AppCDS for jar apps: a Spring Boot jar is extracted and trained in the background, then new workers run the
 * extracted jar with the archive (and a reload with a changed jar does it all again); a plain thin jar is trained
 * as it is. What a worker runs is read from its /proc/PID/cmdline, as an operator would check it.
 */
class ForeignCdsIT {

    private static final Duration BOOT = Duration.ofSeconds(120);

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void aSpringBootJarIsExtractedTrainedThenRunExtractedWithTheArchiveAndAgainAfterAReloadWithANewJar()
            throws Exception {
        Path jar = dir.resolve("app/spring-boot-example.jar");
        Files.createDirectories(jar.getParent());
        Jars.copyWithProperty(Examples.SPRING_BOOT.jar(), jar, Examples.SPRING_BOOT.versionEntry(),
                Examples.VERSION_KEY, "1");
        Path cache = dir.resolve("cache");
        Path pidfile = dir.resolve("drover.pid");
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "1", "-b", "127.0.0.1:0", "-p",
                pidfile.toString(), jar.toString()), Map.of("DROVER_CDS_CACHE_DIR", cache.toString(), "DROVER_CLASSPATH", ""))) {
            int port = drover.awaitServing(1, BOOT);
            Matcher extracted = drover.awaitLine("the Spring Boot jar .* is extracted into (" + cache
                    + "/spring-boot-[0-9a-f]+)$", BOOT);
            drover.awaitLine("AppCDS archive " + cache + "/drover-[0-9a-f]+\\.jsa is ready", BOOT);
            List<String> command = recycleAndRead(drover, pidfile, port, Examples.SPRING_BOOT.greeting("1"));
            assertRuns(command, Path.of(extracted.group(1)).resolve(jar.getFileName()), cache);

            // A new jar at the same path: a reload extracts and trains it again, under a new name.
            int mark = drover.lineCount();
            Path next = dir.resolve("next.jar");
            Jars.copyWithProperty(Examples.SPRING_BOOT.jar(), next, Examples.SPRING_BOOT.versionEntry(),
                    Examples.VERSION_KEY, "2");
            Files.move(next, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            DroverProcess.Result reload = Ctl.run(pidfile, "reload");
            assertEquals(0, reload.exitCode(), reload.output());
            Matcher again = drover.awaitLine("the Spring Boot jar .* is extracted into (" + cache
                    + "/spring-boot-[0-9a-f]+)$", mark, BOOT);
            assertTrue(!again.group(1).equals(extracted.group(1)), "a changed jar gets an extraction of its own");
            drover.awaitLine("AppCDS archive .* is ready", mark, BOOT);
            command = recycleAndRead(drover, pidfile, port, Examples.SPRING_BOOT.greeting("2"));
            assertRuns(command, Path.of(again.group(1)).resolve(jar.getFileName()), cache);
        }
        try (Stream<Path> files = Files.list(cache)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().contains(".partial-")).toList(),
                    "nothing half-made left in the cache");
        }
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void aPlainJarIsTrainedAsItIsAndItsArchiveUsed() throws Exception {
        Path jar = Examples.TOMCAT.jar();
        Path cache = dir.resolve("cache");
        Path pidfile = dir.resolve("drover.pid");
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "1", "-b", "127.0.0.1:0", "-p",
                pidfile.toString(), jar.toString()), Map.of("DROVER_CDS_CACHE_DIR", cache.toString(), "DROVER_CLASSPATH", ""))) {
            int port = drover.awaitServing(1, BOOT);
            drover.awaitLine("AppCDS archive " + cache + "/drover-[0-9a-f]+\\.jsa is ready", BOOT);
            assertTrue(!drover.output().contains("Spring Boot jar"), "no extraction of a plain jar");
            List<String> command = recycleAndRead(drover, pidfile, port, Examples.TOMCAT.greeting("1"));
            assertRuns(command, jar, cache);
        }
    }

    /**
     * Recycles worker 1 and waits for its replacement to be ready with the archive; returns the replacement's
     * command line, after checking that it answers (its pid in the greeting).
     */
    private static List<String> recycleAndRead(DroverProcess drover, Path pidfile, int port, String greeting)
            throws Exception {
        int mark = drover.lineCount();
        DroverProcess.Result recycle = Ctl.run(pidfile, "recycle", "1");
        assertEquals(0, recycle.exitCode(), recycle.output());
        Matcher ready = drover.awaitLine("worker 1 \\(pid (\\d+), gen \\d+\\) ready in \\d+ ms \\(spawn to READY; "
                + "\\d+ ms of it in the worker's main; AppCDS\\)", mark, BOOT);
        long pid = Long.parseLong(ready.group(1));
        List<String> command = List.of(Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0"));
        DroverProcess.awaitCondition("the recycled worker answering", Duration.ofSeconds(30), () -> {
            try {
                Http.Response response = Http.get(port, "/hello");
                return response.status() == 200 && response.body().startsWith(greeting + pid + "\n");
            } catch (java.io.IOException e) {
                return false;
            }
        });
        return command;
    }

    private static void assertRuns(List<String> command, Path jar, Path cache) {
        int dashJar = command.indexOf("-jar");
        assertTrue(dashJar > 0, "a jar worker runs -jar: " + command);
        assertEquals(jar.toString(), command.get(dashJar + 1), "the jar the worker runs: " + command);
        assertTrue(command.stream().anyMatch(a -> a.matches("-XX:SharedArchiveFile=" + cache + "/drover-[0-9a-f]+"
                + "\\.jsa")), "the worker maps the archive: " + command);
        assertTrue(command.stream().anyMatch(a -> a.startsWith("-javaagent:")), "and runs Drover's agent: " + command);
    }
}
