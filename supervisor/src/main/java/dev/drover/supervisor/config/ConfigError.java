package dev.drover.supervisor.config;

import java.util.List;

/**
 * Bad input, reported the same way wherever it is found: the key, the value, where the value came from and what
 * was expected. At startup it means exit code 2 with nothing started; on reload it means nothing changes.
 */
public class ConfigError extends Exception {

    private final List<String> problems;

    public ConfigError(List<String> problems) {
        super(String.join("\n", problems));
        this.problems = List.copyOf(problems);
    }

    /** One problem: {@code key = value (origin): problem (expected: expectation)}. */
    public static ConfigError of(String key, String value, String origin, String problem, String expected) {
        return new ConfigError(List.of(describe(key, value, origin, problem, expected)));
    }

    static String describe(String key, String value, String origin, String problem, String expected) {
        return key + " = " + value + " (" + origin + "): " + problem + " (expected: " + expected + ")";
    }

    public List<String> problems() {
        return problems;
    }
}
