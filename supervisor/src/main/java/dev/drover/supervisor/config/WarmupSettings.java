package dev.drover.supervisor.config;

import java.time.Duration;
import java.util.List;

/**
 * drover.warmup: requests each new worker runs through its own HTTP pipeline and app handler before READY.
 * {@code requests} are "METHOD /path" lines, taken in turn; {@code count} 0 means off.
 */
public record WarmupSettings(int count, List<String> requests, Duration timeLimit) {

    public boolean enabled() {
        return count > 0;
    }
}
