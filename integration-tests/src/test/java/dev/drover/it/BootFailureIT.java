package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A worker that cannot boot at startup stops the master with exit code 3 and the worker's error: no restart loop. */
class BootFailureIT {

    @TempDir
    Path dir;

    @Test
    void appThatThrowsAtStartStopsTheMasterWithExitCode3() throws Exception {
        Path conf = Files.writeString(dir.resolve("failing.conf"), String.join("\n",
                "drover { app = dev.drover.sample.SampleApp, workers = 2, bind = [\"127.0.0.1:0\"] }",
                "sample { fail-on-start = true }", ""));
        DroverProcess.Result result = DroverProcess.run(List.of("-c", conf.toString()), Map.of(), Duration.ofSeconds(60));
        assertEquals(3, result.exitCode(), result.output());
        assertTrue(result.output().contains("failed to boot, and no worker has booted yet: stopping with exit code 3"),
                result.output());
        assertTrue(result.output().contains("sample.fail-on-start = true: refusing to start"), result.output());
        assertTrue(result.output().split("\\) spawned", -1).length - 1 <= 2, "no restart loop:\n" + result.output());
    }
}
