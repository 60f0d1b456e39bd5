package dev.drover.supervisor.config;

import java.nio.file.Path;

/** drover.cds: whether workers share an AppCDS archive, and where the archives are kept. */
public record CdsSettings(boolean enabled, Path cacheDir) {
}
