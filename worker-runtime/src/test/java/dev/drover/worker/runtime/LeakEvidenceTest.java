package dev.drover.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The evidence file as the master reads it (dev.drover.supervisor.leaks): JSON with these fields. */
class LeakEvidenceTest {

    /** Held between the baseline and the final histogram: what a leak looks like. */
    private static final List<long[]> HELD = new ArrayList<>();

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void theFileIsJsonWithTheReadingsTheTopClassesAndWhatGrew() throws Exception {
        LeakEvidence evidence = new LeakEvidence(new MemoryReadings());
        evidence.takeBaseline();
        for (int i = 0; i < 2000; i++) {
            HELD.add(new long[512]);
        }
        Path file = dir.resolve("evidence.json");
        evidence.write(file, "recycle");
        Config json = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
        assertEquals("recycle", json.getString("kind"));
        assertTrue(json.getLong("readings.heap_live") > 0, json.root().render());
        assertTrue(json.getLong("baseline_at_ms") <= json.getLong("taken_at_ms"));
        assertFalse(json.getConfigList("top_classes").isEmpty());
        Config grown = json.getConfigList("grown_classes").stream().filter(c -> c.getString("class").equals("[J"))
                .findFirst().orElseThrow(() -> new AssertionError("no [J among " + json.getList("grown_classes")));
        assertTrue(grown.getLong("instances") >= 2000 && grown.getLong("bytes") >= 2000L * 512 * 8, grown.toString());
        assertTrue(json.hasPath("grown_app_classes"));
        HELD.clear();
    }
}
