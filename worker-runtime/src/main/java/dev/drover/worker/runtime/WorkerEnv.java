package dev.drover.worker.runtime;

import dev.drover.link.LinkMessage;
import java.io.File;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What the master tells a worker JVM at spawn, read from its environment. The names are a contract with
 * the supervisor's spawner (dev.drover.supervisor.os.WorkerSpawner); the master's own settings never use this prefix.
 * {@code appClass} is the DroverApp class of a native worker; a foreign worker's app (a jar path or a main class) is
 * the JVM's own business, so there it is only named in messages. {@code spare}: it boots to READY but accepts only
 * once the master sends PROMOTE (drover.spare-workers); its {@code workerId} is then 0, as no slot is its yet.
 * {@code standby}: a JVM with no app yet (drover.standby-jvms): it attaches and waits for the master's ADOPT, which
 * says what it is to be ({@link #adopted}); {@code appClasspath} is then where the app's classes are.
 */
record WorkerEnv(int workerId, int generation, String secret, Path linkSocket, List<String> listenerKinds,
                 String appClass, Path configFile, long masterPid, long maxRequests, Path nettyNative,
                 Warmup.Plan warmup, long evidenceBaselineMs, HttpLimits http, boolean spare, boolean standby,
                 List<Path> appClasspath) {

    static final String PREFIX = "DROVER_INTERNAL_";

    static WorkerEnv fromEnvironment(Map<String, String> env) {
        boolean standby = "1".equals(env.get(PREFIX + "STANDBY"));
        return read(env, required(env, "LISTENERS"), standby ? "" : required(env, "APP"));
    }

    /**
     * What a standby JVM becomes at the master's ADOPT: the worker {@code message} names (its slot, generation, app,
     * classpath, config, max-requests, spare or not); the rest (link, sockets, HTTP limits, warm-up) as spawned.
     */
    WorkerEnv adopted(LinkMessage message) {
        Map<String, String> f = message.fields();
        String config = f.getOrDefault("config", "");
        String classpath = f.getOrDefault("classpath", "");
        List<Path> jars = classpath.isEmpty() ? List.of()
                : Arrays.stream(classpath.split(File.pathSeparator)).map(Path::of).toList();
        return new WorkerEnv(Integer.parseInt(f.get("id")), Integer.parseInt(f.get("generation")), secret, linkSocket,
                listenerKinds, f.get("app"), config.isEmpty() ? null : Path.of(config), masterPid,
                Long.parseLong(f.getOrDefault("max_requests", "0")), nettyNative, warmup,
                Long.parseLong(f.getOrDefault("evidence_baseline_ms", "0")), http, "1".equals(f.get("spare")), false,
                jars);
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
                "1".equals(env.get(PREFIX + "SPARE")),
                "1".equals(env.get(PREFIX + "STANDBY")),
                List.of());
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
