package dev.drover.supervisor.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void writesWhatAJsonParserReadsBack() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("pid", 42L);
        doc.put("error", "bad \"quote\"\\ and\nnewline\u0001");
        doc.put("workers", List.of(Map.of("id", 1), Map.of("id", 2)));
        doc.put("ok", true);
        String json = Json.write(doc);
        var parsed = ConfigFactory.parseString(json, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
        assertEquals(42, parsed.getLong("pid"));
        assertEquals("bad \"quote\"\\ and\nnewline\u0001", parsed.getString("error"));
        assertEquals(2, parsed.getConfigList("workers").get(1).getInt("id"));
        assertEquals(true, parsed.getBoolean("ok"));
    }

    @Test
    void nullsDoublesUnicodeAndEmbeddedJsonComeOutValid() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("none", null);
        doc.put("ratio", 0.25);
        doc.put("big", 12_345_678_901_234L);
        doc.put("text", "ünïcødé ✓");
        doc.put("path", java.nio.file.Path.of("/tmp/x.json"));
        doc.put("report", new Json.Raw("{\"grown\": [{\"class\": \"[B\", \"bytes\": 98000000}], \"empty\": {}}"));
        doc.put("broken", new Json.Raw("{\"half"));
        var parsed = ConfigFactory.parseString(Json.write(doc), ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
        assertTrue(parsed.getIsNull("none"));
        assertEquals(0.25, parsed.getDouble("ratio"));
        assertEquals(12_345_678_901_234L, parsed.getLong("big"));
        assertEquals("ünïcødé ✓", parsed.getString("text"));
        assertEquals("/tmp/x.json", parsed.getString("path"));
        assertEquals(98_000_000L, parsed.getConfigList("report.grown").get(0).getLong("bytes"));
        assertEquals("[B", parsed.getConfigList("report.grown").get(0).getString("class"));
        assertEquals("{\"half", parsed.getString("broken"), "not JSON: passed on as a string");
    }
}
