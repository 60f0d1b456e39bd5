package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * drover.warmup: a new worker runs its warm-up requests before READY and says how they went; they reach neither
 * the network nor the request count (so not max-requests either). Also: the workers load the master's one copy
 * of Netty's native library.
 */
@Timeout(120)
class WarmupIT {

    @Test
    void warmupRunsBeforeReadyAndIsNotCounted() throws Exception {
        Path dir = DroverProcess.tempDir("drover-warmup");
        Path pidfile = dir.resolve("app.pid");
        Path conf = Files.writeString(dir.resolve("app.conf"),
                "drover.warmup { requests = 300, paths = [\"/\", \"GET /no-such-path\"] }\n");
        try (DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString(), "-w", "1", "-b", "127.0.0.1:0",
                "--max-requests", "100", "-p", pidfile.toString(), "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(1, Duration.ofSeconds(60));
            Matcher ready = drover.awaitLine("main\\(\\) to ready took \\d+ ms .*warm-up: (\\d+) request\\(s\\) in \\d+ ms, "
                    + "(\\d+) answered 2xx, (\\d+) answered otherwise", Duration.ofSeconds(10));
            assertEquals("300", ready.group(1), ready.group());
            assertEquals("150", ready.group(2), "every other request was to / (200): " + ready.group());
            assertEquals("150", ready.group(3), "and every other to a path the sample answers with 404: " + ready.group());

            // 300 warm-up requests, max-requests 100: had they counted, the worker would be recycling by now.
            Config worker = Ctl.status(pidfile).getConfigList("workers").get(0);
            assertEquals(0, worker.getLong("requests"), "warm-up requests are not counted: " + worker);
            long pid = worker.getLong("pid");
            try (Http http = Http.connect(port)) {
                for (int i = 0; i < 5; i++) {
                    assertEquals(200, http.send("/", true).status());
                }
            }
            DroverProcess.awaitCondition("5 real requests counted", Duration.ofSeconds(10), () -> {
                try {
                    return Ctl.status(pidfile).getConfigList("workers").get(0).getLong("requests") == 5;
                } catch (Exception e) {
                    return false;
                }
            });
            assertEquals(0, drover.countLines(".*is due for recycling.*"), "no recycle:\n" + drover.output());

            // Netty's native library: the master's copy in its runtime directory, not one extracted per worker.
            String maps = Files.readString(Path.of("/proc", Long.toString(pid), "maps"));
            assertTrue(maps.lines().anyMatch(l -> l.matches(".*/master-" + drover.pid() + "-[^/]*/libnetty_transport_native_epoll_[a-z_0-9]+\\.so")),
                    "worker maps the master's copy of Netty's library:\n" + maps.lines().filter(l -> l.contains("netty")).toList());
            // ...and no other: a private copy extracted by Netty too (it did, when the master's was loaded too early).
            assertEquals(1, maps.lines().filter(l -> l.contains("libnetty")).map(l -> l.substring(l.indexOf('/')))
                    .distinct().count(), "worker maps one copy of Netty's library:\n"
                    + maps.lines().filter(l -> l.contains("netty")).toList());
        }
    }
}
