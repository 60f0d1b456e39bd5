package dev.drover.supervisor.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * drover.leak-reports: where the leak reports of memory recycles go, how many are kept, and how long a worker warms
 * up before its baseline (the class histogram and the readings growth is measured from).
 */
public record LeakReportSettings(Path dir, int keep, Duration baselineAfter) {
}
