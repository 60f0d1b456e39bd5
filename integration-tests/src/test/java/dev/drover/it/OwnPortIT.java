package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A worker that listens on a port of its own, beside Drover's socket, is reported once it is READY. */
class OwnPortIT {

    @Test
    @Timeout(90)
    void aWorkerListeningOnAPortOfItsOwnIsReported() throws Exception {
        // A JMX port in the worker JVM options is the everyday case: every worker opens it, unseen by Drover.
        Map<String, String> env = Map.of("DROVER_WORKER_JVM_OPTIONS", "-Xmx64m,-Dcom.sun.management.jmxremote.port=0,"
                + "-Dcom.sun.management.jmxremote.authenticate=false,-Dcom.sun.management.jmxremote.ssl=false");
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "1", "-b", "127.0.0.1:0",
                "dev.drover.sample.SampleApp"), env)) {
            int port = drover.awaitServing(1, Duration.ofSeconds(60));
            Matcher warning = drover.awaitLine("WARN .*worker 1 \\(pid \\d+, gen 1\\) listens on (.+) of its own, beside "
                    + "Drover's socket: connections there bypass Drover", Duration.ofSeconds(20));
            assertTrue(warning.group(1).matches("\\[::\\]:\\d+(, \\[::\\]:\\d+)*"), warning.group(0));
            assertTrue(!warning.group(1).contains(":" + port + ","), "Drover's own socket is not reported: " + warning.group(0));
            assertEquals(200, Http.get(port, "/").status());
        }
    }

    @Test
    @Timeout(90)
    void aWorkerWithoutOneIsNot() throws Exception {
        java.nio.file.Path pidfile = DroverProcess.tempDir("drover-ownport").resolve("app.pid");
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "1", "-b", "127.0.0.1:0", "-p", pidfile.toString(),
                "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(1, Duration.ofSeconds(60));
            assertEquals(200, Http.get(port, "/").status());
            // Answered by the arbiter thread, so after it handled the READY (and the check that follows it).
            assertEquals(1, Ctl.status(pidfile).getConfigList("workers").size());
            assertEquals(0, drover.countLines("of its own, beside Drover's socket"), drover.output());
        }
    }
}
