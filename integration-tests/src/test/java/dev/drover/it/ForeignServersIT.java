package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The other servers Drover drives, each an unmodified example app with its jar as APP: Spring Boot on Jetty, plain
 * embedded Jetty 12, plain embedded Tomcat. Two workers serve under keep-alive and fresh-connection load through
 * max-requests recycles and a HUP that brings a new release of the jar; no request may fail.
 */
class ForeignServersIT {

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = Examples.class, names = {"SPRING_BOOT_JETTY", "JETTY", "TOMCAT"})
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void servesRecyclesAndReloadsANewReleaseUnderLoadLosingNothing(Examples example) throws Exception {
        Path app = ForeignApps.privateCopy(example, dir);
        Path pidfile = dir.resolve("app.pid");
        try (DroverProcess drover = ForeignApps.start(app, "-w", "2", "-b", "127.0.0.1:0", "-p", pidfile.toString(),
                "--max-requests", "200")) {
            int port = drover.awaitServing(2, ForeignApps.BOOT);
            ForeignApps.assertServingWorkersAnswer(port, pidfile, example, "1", 2);
            try (Load load = Load.start(port, "/hello", 2, 2, 20)) {
                DroverProcess.awaitCondition("2 recycles (max-requests)", Duration.ofMinutes(3),
                        () -> drover.countLines("recycled \\(max-requests\\)") >= 2);
                ForeignApps.release(example, app, "2");
                ForeignApps.reload(drover, 2, 2);
                ForeignApps.assertServingWorkersAnswer(port, pidfile, example, "2", 2);
                load.awaitMore(200, Duration.ofSeconds(30));
                load.close();
                assertEquals(0, load.failed.get(), load.summary() + "\n" + drover.output());
                assertTrue(load.byWorker.size() >= 6 && !load.byWorker.containsKey(-1L),
                        "2 workers, 2 replacements and the 2 of generation 2 answered, each naming its pid: "
                                + load.summary());
            }
            assertTrue(Ctl.status(pidfile).getLong("recycles.max-requests") >= 2);
        }
    }
}
