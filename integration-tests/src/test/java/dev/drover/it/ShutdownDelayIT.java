package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * drover.shutdown-delay: after TERM every worker serves on, new connections included, while /readyz answers 503 so
 * that a load balancer stops sending; then the graceful stop, and not one request fails.
 */
class ShutdownDelayIT {

    private static final String DELAY_OVER = "drover.shutdown-delay over: graceful stop of 2 worker\\(s\\)";

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void servesOnNotReadyDuringTheDelayThenStopsGracefully() throws Exception {
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "2", "-b", "127.0.0.1:0", "--metrics-bind",
                "127.0.0.1:0", "--shutdown-delay", "2s", "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            int metrics = Integer.parseInt(drover.awaitLine("metrics on http://[0-9.]+:(\\d+)", Duration.ofSeconds(5))
                    .group(1));
            try (Load load = Load.start(port, "/", 2, 2)) {
                load.awaitMore(50, Duration.ofSeconds(30));
                ReloadIT.signal(drover, "TERM");
                drover.awaitLine("SIGTERM: serving on with 2 worker\\(s\\) for 2s \\(drover.shutdown-delay\\)",
                        Duration.ofSeconds(10));
                DroverProcess.awaitCondition("/readyz 503", Duration.ofSeconds(5),
                        () -> MetricsIT.statusQuietly(metrics, "/readyz") == 503);
                // Both seen before the delay is over: not ready, yet new connections and requests are answered.
                load.awaitMore(20, Duration.ofSeconds(5));
                assertEquals(0, drover.countLines(DELAY_OVER), "the delay was over too soon to tell:\n"
                        + drover.output());
                // Clients stop opening connections (the balancer has removed the endpoint); open ones get answers.
                load.stopConnecting();
                drover.awaitLine(DELAY_OVER, Duration.ofSeconds(10));
                load.awaitClientsDone(Duration.ofSeconds(30));
                assertEquals(0, load.failed.get(), load.summary());
            }
            assertEquals(0, drover.awaitExit(Duration.ofSeconds(40)), drover.output());
        }
    }
}
