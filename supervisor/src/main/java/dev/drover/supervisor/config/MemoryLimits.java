package dev.drover.supervisor.config;

import java.time.Duration;
import java.util.Locale;

/** drover.memory: which reading the limits apply to, and the limits (0 = off). */
public record MemoryLimits(Metric metric, long softLimit, Duration softGrace, long hardLimit) {

    /** The reading a limit is compared with; rss is the default because it costs ~10 µs to read every tick. */
    public enum Metric {
        RSS, PSS, USS;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final MemoryLimits OFF = new MemoryLimits(Metric.RSS, 0, Duration.ofSeconds(3), 0);

    public boolean any() {
        return softLimit > 0 || hardLimit > 0;
    }
}
