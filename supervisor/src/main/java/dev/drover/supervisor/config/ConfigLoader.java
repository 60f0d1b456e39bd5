package dev.drover.supervisor.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import dev.drover.supervisor.systemd.SocketActivation;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads the configuration from its sources in order of precedence (reference.conf < file < environment < flags),
 * refuses unknown keys, and hands the merged result to {@link SettingsReader} for validation.
 */
public final class ConfigLoader {

    public static final String ROOT = "drover";
    static final String ENV_PREFIX = "DROVER_";
    /** Variables with the prefix that are not settings: the launcher's own, and those the master gives its workers. */
    static final Set<String> ENV_NOT_SETTINGS = Set.of("DROVER_NO_BUILD", "DROVER_JAVA", "DROVER_JAVA_OPTS",
            "DROVER_HOME");
    static final String ENV_INTERNAL_PREFIX = "DROVER_INTERNAL_";

    private ConfigLoader() {
    }

    /** The validated settings, or every problem found, each with its key, value, origin and expectation. */
    public static Settings load(ConfigSources sources) throws ConfigError {
        Config reference = reference();
        Config merged = fromFlags(sources.flags())
                .withFallback(fromEnvironment(sources.environment(), reference))
                .withFallback(fromFile(sources))
                .withFallback(reference);
        try {
            merged = merged.resolve();
        } catch (ConfigException e) {
            throw new ConfigError(List.of(e.getMessage()));
        }
        List<String> problems = new ArrayList<>(unknownKeys(merged, reference));
        if (!problems.isEmpty()) {
            throw new ConfigError(problems);
        }
        return new SettingsReader(merged.getConfig(ROOT), reference.getConfig(ROOT), sources.file(),
                SocketActivation.read(sources.environment(), ProcessHandle.current().pid())).read();
    }

    /**
     * The settings and their defaults: reference.conf alone. Not ConfigFactory.defaultReference(), which lays the
     * JVM's system properties over it: the launcher's -Ddrover.logging=master (and any -Ddrover.* in
     * DROVER_JAVA_OPTS) would become keys a user's file could set.
     */
    static Config reference() {
        return ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(), "reference.conf",
                ConfigParseOptions.defaults().setAllowMissing(false)).resolve();
    }

    private static Config fromFile(ConfigSources sources) throws ConfigError {
        if (sources.file().isEmpty()) {
            return ConfigFactory.empty();
        }
        try {
            return ConfigFactory.parseFile(sources.file().get().toFile(),
                    ConfigParseOptions.defaults().setAllowMissing(false));
        } catch (ConfigException.IO e) {
            throw new ConfigError(List.of("config file " + sources.file().get() + " (flag -c/--config): cannot read it ("
                    + e.getMessage() + ")"));
        } catch (ConfigException e) {
            throw new ConfigError(List.of("config file " + sources.file().get() + ": " + e.getMessage()));
        }
    }

    private static Config fromFlags(List<ConfigSources.Flag> flags) {
        Config config = ConfigFactory.empty();
        for (ConfigSources.Flag flag : flags) {
            config = ConfigFactory.parseMap(Map.of(flag.path(), flag.value()), "command-line " + flag.name())
                    .withFallback(config);
        }
        return config;
    }

    /**
     * DROVER_GRACEFUL_TIMEOUT sets drover.graceful-timeout: the variable's name is the key's path, upper-cased, with
     * '.' and '-' as '_'. A list is either comma-separated or a HOCON list ("[a, b]").
     */
    private static Config fromEnvironment(Map<String, String> env, Config reference) throws ConfigError {
        Map<String, String> keyByVariable = new TreeMap<>();
        for (var entry : reference.getConfig(ROOT).entrySet()) {
            keyByVariable.put(variableFor(entry.getKey()), entry.getKey());
        }
        Config config = ConfigFactory.empty();
        List<String> problems = new ArrayList<>();
        for (var entry : new TreeMap<>(env).entrySet()) {
            String variable = entry.getKey();
            if (!variable.startsWith(ENV_PREFIX) || ENV_NOT_SETTINGS.contains(variable)
                    || variable.startsWith(ENV_INTERNAL_PREFIX)) {
                continue;
            }
            String key = keyByVariable.get(variable);
            if (key == null) {
                problems.add("environment variable " + variable + " = " + entry.getValue()
                        + ": no such setting (expected one of: " + String.join(", ", keyByVariable.keySet()) + ")");
                continue;
            }
            String path = ROOT + "." + key;
            Object value = reference.getValue(path).valueType() == ConfigValueType.LIST
                    ? listFromEnvironment(entry.getValue()) : entry.getValue();
            config = ConfigFactory.parseMap(Map.of(path, value), "environment variable " + variable)
                    .withFallback(config);
        }
        if (!problems.isEmpty()) {
            throw new ConfigError(problems);
        }
        return config;
    }

    static String variableFor(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static Object listFromEnvironment(String value) {
        String trimmed = value.trim();
        if (trimmed.startsWith("[")) {
            return ConfigFactory.parseString("v = " + trimmed).getList("v").unwrapped();
        }
        return trimmed.isEmpty() ? List.of() : List.of(trimmed.split("\\s*,\\s*"));
    }

    private static List<String> unknownKeys(Config merged, Config reference) {
        List<String> problems = new ArrayList<>();
        if (!merged.hasPath(ROOT) || merged.getValue(ROOT).valueType() != ConfigValueType.OBJECT) {
            problems.add(ROOT + " (" + SettingsReader.origin(merged.getValue(ROOT).origin())
                    + "): is not an object (expected: drover { ... })");
            return problems;
        }
        Set<String> known = reference.getConfig(ROOT).entrySet().stream().map(Map.Entry::getKey)
                .collect(java.util.stream.Collectors.toSet());
        for (var entry : merged.getConfig(ROOT).entrySet()) {
            if (!known.contains(entry.getKey())) {
                problems.add(ConfigError.describe(ROOT + "." + entry.getKey(),
                        entry.getValue().render(SettingsReader.CONCISE),
                        SettingsReader.origin(entry.getValue().origin()), "unknown key",
                        "one of " + new java.util.TreeSet<>(known).stream().map(k -> ROOT + "." + k).toList()));
            }
        }
        return problems;
    }
}
