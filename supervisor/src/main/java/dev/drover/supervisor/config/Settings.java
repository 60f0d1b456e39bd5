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
        WarmupSettings warmup,
        LeakReportSettings leakReports,
        Duration timeout,
        Duration bootTimeout,
        Optional<Path> configFile,
        Map<String, String> origins,
        HttpSettings http) {

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
