package dev.drover.worker.runtime;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What the master tells a worker JVM at spawn, read from its environment. The names are a contract with
 * the supervisor's spawner (dev.drover.supervisor.os.WorkerSpawner); the master's own settings never use this prefix.
 * {@code appClass} is the DroverApp class of a native worker; a foreign worker's app (a jar path or a main class) is
 * the JVM's own business, so there it is only named in messages. {@code spare}: it boots to READY but accepts only
 * once the master sends PROMOTE (drover.spare-workers); its {@code workerId} is then 0, as no slot is its yet.
 */
record WorkerEnv(int workerId, int generation, String secret, Path linkSocket, List<String> listenerKinds,
                 String appClass, Path configFile, long masterPid, long maxRequests, Path nettyNative,
                 Warmup.Plan warmup, long evidenceBaselineMs, HttpLimits http, boolean spare) {

    static final String PREFIX = "DROVER_INTERNAL_";

    static WorkerEnv fromEnvironment(Map<String, String> env) {
        return read(env, required(env, "LISTENERS"), required(env, "APP"));
    }

    /**
     * A foreign worker's environment: the same variables, but LISTENERS (its one socket is fd 0 from the spawn)
     * and APP (the JVM already runs it) are not needed; the settings of Drover's own HTTP server are read and unused.
     */
    static WorkerEnv foreignFromEnvironment(Map<String, String> env) {
        return read(env, env.getOrDefault(PREFIX + "LISTENERS", "tcp"), env.getOrDefault(PREFIX + "APP", "the app"));
    }

    private static WorkerEnv read(Map<String, String> env, String listeners, String app) {
        String config = env.getOrDefault(PREFIX + "CONFIG", "");
        String nettyNative = env.getOrDefault(PREFIX + "NETTY_NATIVE", "");
        return new WorkerEnv(
                Integer.parseInt(required(env, "ID")),
                Integer.parseInt(required(env, "GENERATION")),
                required(env, "SECRET"),
                Path.of(required(env, "LINK")),
                List.of(listeners.split(",")),
                app,
                config.isEmpty() ? null : Path.of(config),
                Long.parseLong(required(env, "MASTER_PID")),
                Long.parseLong(env.getOrDefault(PREFIX + "MAX_REQUESTS", "0")),
                nettyNative.isEmpty() ? null : Path.of(nettyNative),
                new Warmup.Plan(Integer.parseInt(env.getOrDefault(PREFIX + "WARMUP_REQUESTS", "0")),
                        List.of(env.getOrDefault(PREFIX + "WARMUP_PATHS", "GET /").split("\n")),
                        Long.parseLong(env.getOrDefault(PREFIX + "WARMUP_TIME_LIMIT_MS", "10000"))),
                Long.parseLong(env.getOrDefault(PREFIX + "EVIDENCE_BASELINE_MS", "0")),
                HttpLimits.fromEnvironment(env, PREFIX),
                "1".equals(env.get(PREFIX + "SPARE")));
    }

    private static String required(Map<String, String> env, String name) {
        String value = env.get(PREFIX + name);
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException("environment variable " + PREFIX + name
                    + " is not set (expected: a worker JVM is started by the Drover master, not by hand)");
        }
        return value;
    }
}
