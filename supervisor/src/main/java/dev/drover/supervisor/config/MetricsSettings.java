package dev.drover.supervisor.config;

import java.util.Optional;

/**
 * Where the master serves /metrics, /healthz and /readyz ({@code metrics.bind}; empty: nowhere), and how many
 * serving workers make it ready ({@code metrics.ready-min-workers}).
 */
public record MetricsSettings(Optional<BindAddress> bind, int readyMinWorkers) {
}
