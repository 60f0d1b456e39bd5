package dev.drover.supervisor.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
