package dev.drover.supervisor.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where the configuration comes from, kept so that a reload reads the same places again: the file given with -c,
 * the environment's DROVER_* variables and the command-line flags.
 */
public record ConfigSources(Optional<Path> file, Map<String, String> environment, List<Flag> flags) {

    /** One command-line setting: the config path it sets, its value as typed, and the flag as the user wrote it. */
    public record Flag(String path, Object value, String name) {
    }

    public ConfigSources {
        environment = Map.copyOf(environment);
        flags = List.copyOf(flags);
    }
}
