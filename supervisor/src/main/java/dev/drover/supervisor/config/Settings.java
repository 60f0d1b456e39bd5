package dev.drover.supervisor.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The validated, frozen configuration the master runs with. One field per key in reference.conf. */
public record Settings(
        List<BindAddress> bind,
        int backlog,
        int workers,
        String app,
        AppKind appKind,
        List<String> appArgs,
        List<Path> classpath,
        List<String> workerJvmOptions,
        Duration gracefulTimeout,
        Optional<Path> pidfile,
        Optional<Path> controlSocket,
        Optional<Path> logFile,
        int unixSocketMode,
        RecycleLimits recycle,
        MemoryLimits memory,
        CdsSettings cds,
        WorkerJava workerJava,
        WarmupSettings warmup,
        LeakReportSettings leakReports,
        Duration timeout,
        Duration bootTimeout,
        Optional<Path> configFile,
        Map<String, String> origins,
        HttpSettings http,
        MetricsSettings metrics,
        RunAs runAs,
        ContainerSettings container) {

    /** The same settings with the app's kind decided (AppCheck loads a class to tell a DroverApp from a main class). */
    public Settings withAppKind(AppKind kind) {
        return new Settings(bind, backlog, workers, app, kind, appArgs, classpath, workerJvmOptions, gracefulTimeout,
                pidfile, controlSocket, logFile, unixSocketMode, recycle, memory, cds, workerJava, warmup, leakReports, timeout,
                bootTimeout, configFile, origins, http, metrics, runAs, container);
    }

    /** Whether the app is a jar or a main class, run with its own server through Drover's agent. */
    public boolean foreign() {
        return appKind.foreign();
    }

    /** How logs and `drover ctl status` name the app: a jar by its file name, a class by its full name. */
    public String appLabel() {
        return appKind == AppKind.JAR ? Path.of(app).getFileName().toString() : app;
    }

    /** Where a key's value came from (file:line, an environment variable, a flag or the default), for messages. */
    public String origin(String key) {
        return origins.getOrDefault(key, "unknown origin");
    }

    /** Where `drover ctl` finds the master: the configured socket, else one derived from the pidfile. */
    public Optional<Path> controlSocketPath() {
        return controlSocket.or(() -> pidfile.map(Settings::controlSocketFor));
    }

    /** The control socket path derived from a pidfile; `drover ctl -p PIDFILE` uses the same rule. */
    public static Path controlSocketFor(Path pidfile) {
        return Path.of(pidfile + ".ctl", "control.sock");
    }
}
