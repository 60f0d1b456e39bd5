package dev.drover.worker.runtime;

import java.util.Map;

/**
 * The limits of a worker's HTTP server (drover.http in the master's settings, where each one is documented), as the
 * master passes them in DROVER_INTERNAL_HTTP_* variables. Sizes are bytes; times are milliseconds.
 */
record HttpLimits(int maxRequestLine, int maxHeaderSize, int maxHeaders, int maxBodySize, long headerTimeoutMs,
                  long bodyTimeoutMs, long idleTimeoutMs, int maxConnections) {

    /** The same values as reference.conf: for the standalone mode, the training run and the warm-up. */
    static final HttpLimits DEFAULTS = new HttpLimits(8 << 10, 32 << 10, 100, 1 << 20, 60_000, 60_000, 75_000, 10_000);

    /** Reads the variables a worker is spawned with; a missing one keeps its default. */
    static HttpLimits fromEnvironment(Map<String, String> env, String prefix) {
        HttpLimits d = DEFAULTS;
        return new HttpLimits(
                (int) number(env, prefix + "HTTP_MAX_REQUEST_LINE", d.maxRequestLine),
                (int) number(env, prefix + "HTTP_MAX_HEADER_SIZE", d.maxHeaderSize),
                (int) number(env, prefix + "HTTP_MAX_HEADERS", d.maxHeaders),
                (int) number(env, prefix + "HTTP_MAX_BODY_SIZE", d.maxBodySize),
                number(env, prefix + "HTTP_HEADER_TIMEOUT_MS", d.headerTimeoutMs),
                number(env, prefix + "HTTP_BODY_TIMEOUT_MS", d.bodyTimeoutMs),
                number(env, prefix + "HTTP_IDLE_TIMEOUT_MS", d.idleTimeoutMs),
                (int) number(env, prefix + "HTTP_MAX_CONNECTIONS", d.maxConnections));
    }

    private static long number(Map<String, String> env, String name, long fallback) {
        String value = env.get(name);
        return value == null || value.isEmpty() ? fallback : Long.parseLong(value);
    }
}
