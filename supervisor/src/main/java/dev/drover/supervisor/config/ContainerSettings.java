package dev.drover.supervisor.config;

import java.time.Duration;
import java.util.Optional;

/**
 * The settings that fit Drover to a container platform behind a load balancer: how long a TERM keeps serving
 * before the graceful stop ({@code shutdown-delay}), and how {@code workers = auto} was worked out, if it was.
 */
public record ContainerSettings(Duration shutdownDelay, Optional<AutoWorkers> autoWorkers) {
}
