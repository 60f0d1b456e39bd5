package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** drover.reload-surge: once a reload's canary serves, the other old workers' replacements boot together. */
class ReloadSurgeIT {

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void afterTheCanaryTheRestBootTogetherUnderLoadAndTheLogSaysWhereTheTimeWent() throws Exception {
        Path pidfile = dir.resolve("app.pid");
        Path conf = dir.resolve("app.conf");
        Files.writeString(conf, String.join("\n", "drover {", "  app = dev.drover.sample.SampleApp",
                "  bind = [\"127.0.0.1:0\"]", "  workers = 3", "  max-surge = 1", "  reload-surge = 2", "  reload-canary = alone",
                "  pidfile = \"" + pidfile + "\"", "}", ""));
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()))) {
            int port = drover.awaitServing(3, Duration.ofSeconds(60));
            try (Load load = Load.start(port, "/", 2, 1, 5)) {
                int mark = drover.lineCount();
                ReloadIT.signal(drover, "HUP");
                drover.awaitLine("1 of 1 \\(the canary\\) replacement\\(s\\) booting", mark, Duration.ofSeconds(30));
                drover.awaitLine("spawned to replace .*; 2 of reload-surge 2 replacement\\(s\\) booting", mark,
                        Duration.ofSeconds(90));
                String output = drover.output();
                assertTrue(output.indexOf("is the canary of generation 2 and it is ready") < output.indexOf(
                        "2 of reload-surge 2"), "the canary first, then the other two together:\n" + output);
                Matcher complete = drover.awaitLine("reload to generation 2 complete: 3 worker\\(s\\) serving; in "
                        + "[0-9,]+ ms: config read and checked [0-9,]+ ms, spawn [0-9,]+ ms, canary spawn->READY [0-9,]+ ms, roll-out [0-9,]+ ms "
                        + "\\(2 more worker\\(s\\), reload-surge 2\\), last old worker drained [0-9,]+ ms", mark,
                        Duration.ofSeconds(60));
                assertTrue(complete.start() >= 0);
                load.close();
                assertEquals(0, load.failed.get(), load.summary() + "\n" + drover.output());
            }
            var status = Ctl.status(pidfile);
            assertEquals("2", status.getString("reload_surge"));
            assertTrue(status.getString("last_reload").contains("reload-surge 2"), status.getString("last_reload"));
            String table = Ctl.run(pidfile, "status").output();
            assertTrue(table.contains("reload: none, reload-surge 2; last one in "), table);
        }
    }
}
