package dev.drover.supervisor.config;

import java.time.Duration;
import java.util.Map;

/**
 * drover.http: the limits of every worker's HTTP server, handed to each worker in DROVER_INTERNAL_HTTP_* variables
 * (a contract with dev.drover.worker.runtime.HttpLimits). Sizes are bytes.
 */
public record HttpSettings(int maxRequestLine, int maxHeaderSize, int maxHeaders, int maxBodySize,
                           Duration headerTimeout, Duration bodyTimeout, Duration idleTimeout, int maxConnections) {

    /** The variables a worker reads these from. */
    public Map<String, String> workerEnvironment() {
        return Map.of(
                "DROVER_INTERNAL_HTTP_MAX_REQUEST_LINE", Integer.toString(maxRequestLine),
                "DROVER_INTERNAL_HTTP_MAX_HEADER_SIZE", Integer.toString(maxHeaderSize),
                "DROVER_INTERNAL_HTTP_MAX_HEADERS", Integer.toString(maxHeaders),
                "DROVER_INTERNAL_HTTP_MAX_BODY_SIZE", Integer.toString(maxBodySize),
                "DROVER_INTERNAL_HTTP_HEADER_TIMEOUT_MS", Long.toString(headerTimeout.toMillis()),
                "DROVER_INTERNAL_HTTP_BODY_TIMEOUT_MS", Long.toString(bodyTimeout.toMillis()),
                "DROVER_INTERNAL_HTTP_IDLE_TIMEOUT_MS", Long.toString(idleTimeout.toMillis()),
                "DROVER_INTERNAL_HTTP_MAX_CONNECTIONS", Integer.toString(maxConnections));
    }
}
