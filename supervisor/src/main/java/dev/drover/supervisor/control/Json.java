package dev.drover.supervisor.control;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValueFactory;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the control socket's JSON answers (maps, lists, strings, numbers, booleans, null and {@link Raw} JSON) with
 * Typesafe Config's renderer, which the worker's leak evidence uses too: one JSON writer for both sides. Keys come
 * out sorted; every reader parses them.
 */
public final class Json {

    private static final ConfigParseOptions JSON = ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON);

    private Json() {
    }

    /** A JSON object's text, embedded as it is: a report or snapshot read from a file. */
    public record Raw(String json) {
    }

    public static String write(Object value) {
        return ConfigValueFactory.fromAnyRef(renderable(value)).render(ConfigRenderOptions.concise());
    }

    /** What Config's value factory takes: Raw parsed into a value, maps with string keys, other types as strings. */
    private static Object renderable(Object value) {
        if (value == null || value instanceof Number || value instanceof Boolean || value instanceof String) {
            return value;
        }
        if (value instanceof Raw raw) {
            try {
                return ConfigFactory.parseString(raw.json(), JSON).root();
            } catch (ConfigException e) {
                return raw.json(); // a file a worker left half-written: still a valid answer, as a string
            }
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(String.valueOf(k), renderable(v)));
            return out;
        }
        if (value instanceof List<?> list) {
            return list.stream().map(Json::renderable).toList();
        }
        return value.toString();
    }
}
