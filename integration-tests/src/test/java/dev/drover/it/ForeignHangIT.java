package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A request thread stuck in an unmodified app (GET /hang) for longer than --timeout, in Spring Boot's Tomcat and in
 * plain Jetty: the master names it a stuck request, the thread dump in the log shows the app's own method, the
 * worker is replaced, and the service answers throughout.
 */
class ForeignHangIT {

    @TempDir
    Path dir;

    /** Where each example's GET /hang holds its thread, as a thread dump's frame names it. */
    private static String hangFrame(Examples example) {
        return switch (example) {
            case SPRING_BOOT, SPRING_BOOT_JETTY -> "dev.drover.examples.boot.ExampleController.hang(";
            case JETTY -> "dev.drover.examples.jetty.ExampleHandler.hang(";
            case TOMCAT -> "dev.drover.examples.tomcat.ExampleServlet.hang(";
        };
    }

    @ParameterizedTest
    @EnumSource(value = Examples.class, names = {"SPRING_BOOT", "JETTY"})
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aStuckRequestThreadIsDumpedAndItsWorkerReplacedWhileTheServiceAnswers(Examples example) throws Exception {
        Path pidfile = dir.resolve("app.pid");
        try (DroverProcess drover = ForeignApps.start(example.jar(), "-w", "2", "-b", "127.0.0.1:0", "-p",
                pidfile.toString(), "-t", "5s")) {
            int port = drover.awaitServing(2, ForeignApps.BOOT);
            try (Load load = Load.start(port, "/hello", 2, 2, 10); Http hang = Http.connect(port)) {
                load.awaitMore(100, Duration.ofSeconds(30));
                int mark = drover.lineCount();
                long okBeforeHang = load.ok.get();
                Thread stuck = new Thread(() -> {
                    try {
                        hang.send("/hang", true);
                    } catch (java.io.IOException expected) {
                        // its worker is killed under it
                    }
                }, "hang-client");
                stuck.setDaemon(true);
                stuck.start();
                Matcher hung = drover.awaitLine("worker \\d \\(pid (\\d+), gen 1\\) is hung: a request running for \\d+ ms "
                        + "\\(timeout 5s, drover.timeout\\): a stuck request thread", mark, Duration.ofSeconds(30));
                String pid = hung.group(1);
                long okAtDetection = load.ok.get();
                drover.awaitLine("\\(pid " + pid + ", gen 1\\) \\| Full thread dump", mark, Duration.ofSeconds(10));
                drover.awaitLine("\\(pid " + pid + ", gen 1\\) \\|\\s+at " + java.util.regex.Pattern.quote(hangFrame(example)),
                        mark, Duration.ofSeconds(10));
                drover.awaitLine("\\(pid " + pid + ", gen 1\\) is gone", mark, Duration.ofSeconds(20));
                drover.awaitLine("worker \\d \\(pid (?!" + pid + "\\b)\\d+, gen 1\\) ready in", mark, ForeignApps.BOOT);
                load.awaitMore(100, Duration.ofSeconds(30));
                load.close();
                assertTrue(okAtDetection - okBeforeHang >= 50, "the service answered while a request hung ("
                        + (okAtDetection - okBeforeHang) + " answers): " + load.summary());
                // A SIGKILL ends the connections the hung worker held: at most one per client.
                assertTrue(load.failed.get() <= 4, load.summary());
                assertEquals(200, Http.get(port, "/hello").status());
            }
            assertEquals(2, Ctl.servingPids(pidfile).size());
        }
    }
}
