package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * drover.warmup for a jar app: before READY, the agent runs the warm-up requests through the app's own server over
 * private connections (never the shared socket); the worker logs what they did before READY, ctl status does not
 * count them (so neither does max-requests), and the service answers afterwards.
 */
class ForeignWarmupIT {

    @Test
    @Timeout(180)
    void springBootWarmsUpThroughItsOwnServerBeforeReady() throws Exception {
        Path dir = DroverProcess.tempDir("drover-foreign-warmup");
        try (DroverProcess drover = start(dir, Examples.SPRING_BOOT, Map.of("DROVER_WARMUP_PATHS", "/hello"))) {
            int port = drover.awaitServing(1, Duration.ofSeconds(150));
            int warmUp = lineOf(drover, "\\| INFO  \\[drover\\] ForeignWorker - warm-up: 50 request\\(s\\) in \\d+ ms,"
                    + " 50 answered 2xx$");
            assertTrue(warmUp < acceptingLine(drover), "the warm-up comes before READY:\n" + drover.output());
            // Spring starts its DispatcherServlet at the first request: the warm-up's, through the real app.
            assertTrue(lineOf(drover, "Completed initialization in \\d+ ms") < warmUp, drover.output());
            assertServesUncounted(drover, dir, port, Examples.SPRING_BOOT);
        }
    }

    @Test
    @Timeout(120)
    void aPlainJettyAppWarmsUpToo() throws Exception {
        Path dir = DroverProcess.tempDir("drover-foreign-warmup");
        Files.writeString(dir.resolve("app.conf"), "drover.warmup.paths = [\"/hello\", \"GET /no-such-path\"]\n");
        try (DroverProcess drover = start(dir, Examples.JETTY, Map.of())) {
            int port = drover.awaitServing(1, Duration.ofSeconds(90));
            int warmUp = lineOf(drover, "\\| INFO  \\[drover\\] ForeignWorker - warm-up: 50 request\\(s\\) in \\d+ ms,"
                    + " 25 answered 2xx, 25 answered otherwise \\(check drover.warmup.paths\\)$");
            assertTrue(warmUp < acceptingLine(drover), "the warm-up comes before READY:\n" + drover.output());
            assertServesUncounted(drover, dir, port, Examples.JETTY);
        }
    }

    /**
     * One worker, 50 warm-up requests and max-requests 30: had the warm-up counted, the worker would be due for
     * recycling at READY.
     */
    private static DroverProcess start(Path dir, Examples app, Map<String, String> env) throws Exception {
        Path conf = dir.resolve("app.conf");
        if (!Files.exists(conf)) {
            Files.writeString(conf, "");
        }
        Map<String, String> withoutClasspath = new HashMap<>(env);
        withoutClasspath.put("DROVER_CLASSPATH", ""); // a jar app has none: the launcher's tests export the sample's
        return DroverProcess.start(List.of("-c", conf.toString(), "-w", "1", "-b", "127.0.0.1:0", "--warmup-requests",
                "50", "--max-requests", "30", "-p", dir.resolve("app.pid").toString(), app.jar().toString()),
                withoutClasspath);
    }

    private static void assertServesUncounted(DroverProcess drover, Path dir, int port, Examples app) throws Exception {
        Path pidfile = dir.resolve("app.pid");
        Config worker = Ctl.status(pidfile).getConfigList("workers").get(0);
        assertEquals(0, worker.getLong("requests"), "warm-up requests counted: " + worker);
        for (int i = 0; i < 5; i++) {
            Http.Response answer = Http.get(port, "/hello");
            assertEquals(200, answer.status());
            assertTrue(answer.body().startsWith(app.greeting("1")), answer.body());
        }
        DroverProcess.awaitCondition("5 real requests counted", Duration.ofSeconds(10), () -> {
            try {
                return Ctl.status(pidfile).getConfigList("workers").get(0).getLong("requests") == 5;
            } catch (Exception e) {
                return false;
            }
        });
        assertEquals(0, drover.countLines("is due for recycling"), drover.output());
        // The warm-up's private listener is closed before READY: nothing to report as a port of the worker's own.
        assertEquals(0, drover.countLines("of its own, beside Drover's socket"), drover.output());
    }

    /**
     * The worker's line right after its READY. Not the master's "ready in" line: the master relays the worker's
     * output on a path of its own, which may lag behind the READY message on the control link.
     */
    private static int acceptingLine(DroverProcess drover) {
        return lineOf(drover, "\\| INFO  \\[drover\\] ForeignWorker - accepting: ");
    }

    /** The index of the first line of the master's output that matches {@code regex}; fails if there is none. */
    private static int lineOf(DroverProcess drover, String regex) {
        Pattern pattern = Pattern.compile(regex);
        List<String> lines = drover.output().lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (pattern.matcher(lines.get(i)).find()) {
                return i;
            }
        }
        throw new AssertionError("no line matching /" + regex + "/ in:\n" + drover.output());
    }
}
