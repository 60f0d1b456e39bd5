package dev.drover.supervisor.config;

import java.time.Duration;
import java.util.Locale;

/**
 * drover.memory: which reading the limits apply to, the limits (0 = off), and whether each worker gets a cgroup of
 * its own with the hard limit as the kernel's ceiling where cgroup v2 is delegated ({@code cgroups}: auto = true).
 */
public record MemoryLimits(Metric metric, long softLimit, Duration softGrace, long hardLimit, boolean cgroups) {

    public MemoryLimits(Metric metric, long softLimit, Duration softGrace, long hardLimit) {
        this(metric, softLimit, softGrace, hardLimit, true);
    }

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
