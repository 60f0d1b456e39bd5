package dev.drover.supervisor.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import dev.drover.supervisor.os.Cgroups;
import dev.drover.supervisor.systemd.SocketActivation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads and checks each setting under {@code drover}: every problem names the key, the value, its origin and what
 * was expected. Refuses bad values; never corrects them.
 */
final class SettingsReader {

    static final ConfigRenderOptions CONCISE = ConfigRenderOptions.concise();
    private static final String DEFAULT_ORIGIN = "the default in reference.conf";

    private final Config config;
    private final Optional<Path> file;
    private final List<String> problems = new ArrayList<>();

    private final Config defaults;
    private final SocketActivation activation;

    /** {@code activation}: the sockets systemd passed, which {@code bind} may name, and takes by default. */
    SettingsReader(Config droverSection, Config referenceSection, Optional<Path> file, SocketActivation activation) {
        this.config = droverSection;
        this.defaults = referenceSection;
        this.file = file;
        this.activation = activation;
    }

    Settings read() throws ConfigError {
        String app = app();
        List<BindAddress> bind = bindAddresses();
        int backlog = wholeNumber("backlog", 1);
        MemoryLimits memory = memoryLimits();
        Optional<AutoWorkers> auto = autoWorkers(memory);
        Settings settings = new Settings(
                bind,
                backlog,
                auto.map(AutoWorkers::workers).orElseGet(() -> wholeNumber("workers", 1, " or auto")),
                AppKind.isJarPath(app) ? Path.of(app).toAbsolutePath().normalize().toString() : app,
                AppKind.isJarPath(app) ? AppKind.JAR : AppKind.CLASS,
                appArgs(),
                text("classpath", true).stream().map(Path::of).toList(),
                text("worker-jvm-options", true),
                duration("graceful-timeout"),
                optionalPath("pidfile"),
                optionalPath("control-socket"),
                optionalPath("log-file"),
                fileMode("unix-socket-mode"),
                new RecycleLimits(count("max-requests"), count("max-requests-jitter"), duration("max-lifetime"),
                        duration("max-lifetime-jitter"), wholeNumber("max-surge", 1), reloadSurge(),
                        nice("boot-nice"), nice("serving-nice"), reloadCanaryAlone(),
                        wholeNumber("spare-workers", 0), wholeNumber("standby-jvms", 0)),
                memory,
                cdsSettings(),
                workerJava(),
                warmupSettings(),
                new LeakReportSettings(optionalPath("leak-reports.dir").orElseGet(() -> {
                    String xdg = System.getenv("XDG_STATE_HOME");
                    Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg)
                            : Path.of(System.getProperty("user.home"), ".local", "state");
                    return base.resolve("drover").resolve("leaks");
                }), wholeNumber("leak-reports.keep", 1), positiveDuration("leak-reports.baseline-after")),
                positiveDuration("timeout"),
                positiveDuration("boot-timeout"),
                file,
                origins(),
                httpSettings(),
                metricsSettings(),
                runAs(),
                new ContainerSettings(duration("shutdown-delay"), auto));
        if (!problems.isEmpty()) {
            throw new ConfigError(problems);
        }
        return settings;
    }

    /** Where a value came from, as a user would look for it: file:line, an environment variable, a flag, or the default. */
    static String origin(ConfigOrigin origin) {
        if (origin.filename() != null) {
            return origin.filename() + ":" + origin.lineNumber();
        }
        return origin.description();
    }

    /** Like {@link #origin(ConfigOrigin)}, but a value that is still the default says so. */
    private String origin(String key) {
        ConfigValue value = config.getValue(key);
        if (defaults.hasPath(key) && defaults.getValue(key).origin().description().equals(value.origin().description())) {
            return DEFAULT_ORIGIN;
        }
        return origin(value.origin());
    }

    private java.util.Map<String, String> origins() {
        java.util.Map<String, String> origins = new java.util.TreeMap<>();
        config.entrySet().forEach(e -> origins.put(e.getKey(), origin(e.getKey())));
        if (bindsPassedSockets()) {
            origins.put("bind", "LISTEN_FDS (the sockets systemd passed; drover.bind is not set)");
        }
        return java.util.Map.copyOf(origins);
    }

    private String problem(String key, String problem, String expected) {
        ConfigValue value = config.getValue(key);
        problems.add(ConfigError.describe(ConfigLoader.ROOT + "." + key, value.render(CONCISE), origin(key),
                problem, expected));
        return null;
    }

    /** A whole number >= 0, where 0 usually means "off". */
    private long count(String key) {
        return wholeNumber(key, 0);
    }

    private Duration positiveDuration(String key) {
        return duration(key, false);
    }

    private long size(String key) {
        String expected = "a size such as 512M, 2G or 0 (off)";
        try {
            long value = config.getBytes(key);
            if (value >= 0) {
                return value;
            }
            problem(key, "negative", expected);
        } catch (ConfigException.BadValue | ConfigException.WrongType e) {
            problem(key, "not a size", expected);
        }
        return 0;
    }

    private HttpSettings httpSettings() {
        return new HttpSettings(byteCount("http.max-request-line", 64), byteCount("http.max-header-size", 256),
                wholeNumber("http.max-headers", 1), byteCount("http.max-body-size", 0),
                positiveDuration("http.header-timeout"), positiveDuration("http.body-timeout"),
                positiveDuration("http.idle-timeout"), wholeNumber("http.max-connections", 1));
    }

    /** A size in bytes that fits the HTTP codec (an int), at least {@code min}. */
    private int byteCount(String key, int min) {
        String expected = "a size such as 8K or 1M, from " + min + " bytes to 2047M";
        try {
            long value = config.getBytes(key);
            if (value >= min && value <= Integer.MAX_VALUE) {
                return (int) value;
            }
            problem(key, "out of range", expected);
        } catch (ConfigException.BadValue | ConfigException.WrongType e) {
            problem(key, "not a size", expected);
        }
        return min;
    }

    private CdsSettings cdsSettings() {
        boolean enabled = true;
        try {
            enabled = config.getBoolean("cds.enabled");
        } catch (ConfigException.WrongType e) {
            problem("cds.enabled", "not a boolean", "true or false");
        }
        Path dir = optionalPath("cds.cache-dir").orElseGet(() -> {
            String xdg = System.getenv("XDG_CACHE_HOME");
            Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
            return base.resolve("drover").resolve("cds");
        });
        return new CdsSettings(enabled, dir);
    }

    /** drover.java-home: "" is the master's own runtime; another is checked here, so a broken one never starts. */
    private WorkerJava workerJava() {
        Optional<Path> home = optionalPath("java-home");
        if (home.isEmpty()) {
            return WorkerJava.master();
        }
        try {
            return WorkerJava.at(home.get().toAbsolutePath().normalize());
        } catch (WorkerJava.Unusable e) {
            problem("java-home", e.getMessage(), "the directory of a Java " + WorkerJava.OLDEST
                    + " or later runtime (a JDK or JRE: bin/java and a release file), such as "
                    + "/usr/lib/jvm/temurin-25-jdk-amd64, or \"\" for the master's own");
            return WorkerJava.master();
        }
    }

    private WarmupSettings warmupSettings() {
        List<String> requests = new ArrayList<>();
        for (String line : text("warmup.paths", true)) {
            String[] parts = line.trim().split("\\s+");
            String method = parts.length == 2 ? parts[0] : "GET";
            String path = parts[parts.length - 1];
            if (parts.length > 2 || !path.startsWith("/") || !method.matches("[A-Z]+")) {
                problem("warmup.paths", "not a request: \"" + line + "\"",
                        "a list of \"/path\" or \"METHOD /path\", such as [\"/\", \"GET /health\"]");
                continue;
            }
            requests.add(method + " " + path);
        }
        int count = wholeNumber("warmup.requests", 0);
        if (count > 0 && requests.isEmpty()) {
            problem("warmup.paths", "empty while warmup.requests is " + count, "at least one path to request");
        }
        return new WarmupSettings(count, List.copyOf(requests), positiveDuration("warmup.time-limit"));
    }

    private MemoryLimits memoryLimits() {
        MemoryLimits.Metric metric = MemoryLimits.Metric.RSS;
        String name = text("memory.metric", false).stream().findFirst().orElse("");
        try {
            metric = MemoryLimits.Metric.valueOf(name.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            problem("memory.metric", "unknown metric", "rss, pss or uss");
        }
        long soft = size("memory.soft-limit");
        long hard = size("memory.hard-limit");
        // '|', not '||': both limits are checked, so both are reported.
        boolean refused = belowWorkerFloor("memory.soft-limit", soft) | belowWorkerFloor("memory.hard-limit", hard);
        if (!refused && soft > 0 && hard > 0 && hard <= soft) {
            problem("memory.hard-limit", "not above memory.soft-limit (" + soft + " bytes)",
                    "a hard limit above the soft limit, or 0 (off)");
        }
        String cgroups = text("memory.cgroups", false).stream().findFirst().orElse("");
        if (!cgroups.equals("auto") && !cgroups.equals("off")) {
            problem("memory.cgroups", "unknown value", "auto or off");
        }
        return new MemoryLimits(metric, soft, duration("memory.soft-grace"), hard, !cgroups.equals("off"));
    }

    /**
     * A memory limit (not 0) below what a worker needs to run is refused: every worker would be recycled or killed
     * as soon as it starts, and replaced, for ever. Returns whether it was refused.
     */
    private boolean belowWorkerFloor(String key, long limit) {
        List<String> options;
        try {
            options = config.getStringList("worker-jvm-options");
        } catch (ConfigException.WrongType e) {
            options = List.of(); // reported where the options are read
        }
        long floor = WorkerMemory.floor(options);
        if (limit <= 0 || limit >= floor) {
            return false;
        }
        problem(key, "below the least a worker needs (" + Sizes.human(floor) + ": "
                + WorkerMemory.floorReason(options) + "); every worker would be replaced as soon as it starts",
                "0 (off) or at least " + Sizes.jvm(floor).toUpperCase(java.util.Locale.ROOT));
        return true;
    }

    private int wholeNumber(String key, int min) {
        return wholeNumber(key, min, "");
    }

    /** {@code orElse}: what else the key takes, for the message (" or auto"). */
    private int wholeNumber(String key, int min, String orElse) {
        String expected = "a whole number >= " + min + orElse;
        try {
            // getLong() would read 2.5 as 2: a fraction is refused, not truncated (1000.0 and 1e3 are whole).
            Number number = config.getNumber(key);
            long value = number.longValue();
            if (number instanceof Double d && d != Math.rint(d)) {
                problem(key, "not a whole number", expected);
            } else if (value >= min && value <= Integer.MAX_VALUE) {
                return (int) value;
            } else {
                problem(key, "out of range", expected);
            }
        } catch (ConfigException.WrongType e) {
            problem(key, "not a whole number", expected);
        }
        return min;
    }

    private Duration duration(String key) {
        return duration(key, true);
    }

    /** A whole number >= 1, or "all" (RecycleLimits.RELOAD_SURGE_ALL). */
    private int reloadSurge() {
        ConfigValue value = config.getValue("reload-surge");
        if (value.valueType() == com.typesafe.config.ConfigValueType.STRING
                && value.unwrapped().toString().trim().equalsIgnoreCase("all")) {
            return RecycleLimits.RELOAD_SURGE_ALL;
        }
        return wholeNumber("reload-surge", 1, " or all");
    }

    /** reload-canary: "alone" (true) or "together" (false), any case. */
    private boolean reloadCanaryAlone() {
        List<String> value = text("reload-canary", false);
        String mode = value.isEmpty() ? "" : value.get(0).trim().toLowerCase(java.util.Locale.ROOT);
        if (!mode.equals("alone") && !mode.equals("together")) {
            if (!value.isEmpty()) {
                problem("reload-canary", "not a mode", "together (the rest of the generation boots with the canary; "
                        + "no old worker drains before a new one is READY) or alone (the rest boots once it is READY)");
            }
            return false;
        }
        return mode.equals("alone");
    }

    /** setpriority(2) takes nice values up to 19: more is refused rather than clamped by the kernel. */
    private int nice(String key) {
        int nice = wholeNumber(key, 0);
        if (nice > 19) {
            problem(key, "out of range", "a whole number from 0 (off) to 19");
            return 0;
        }
        return nice;
    }

    /**
     * workers = auto (any case), worked out from this process's cgroups now: at start, and again at every reload.
     * Empty for a number (or a bad value, which wholeNumber reports).
     */
    private Optional<AutoWorkers> autoWorkers(MemoryLimits memory) {
        ConfigValue value = config.getValue("workers");
        if (value.valueType() != com.typesafe.config.ConfigValueType.STRING
                || !value.unwrapped().toString().trim().equalsIgnoreCase("auto")) {
            return Optional.empty();
        }
        List<String> options;
        try {
            options = config.getStringList("worker-jvm-options");
        } catch (ConfigException.WrongType e) {
            options = List.of(); // reported where the options are read
        }
        long total = MachineMemory.read().map(MachineMemory::total).orElse(0L);
        return Optional.of(AutoWorkers.decide(Cgroups.fsRoot(), CapacityCheck.perWorker(memory.hardLimit(),
                origin("memory.hard-limit"), options, total), Runtime.getRuntime().availableProcessors()));
    }

    private Duration duration(String key, boolean zeroAllowed) {
        String expected = "a duration such as 30s, 500ms or 2m, " + (zeroAllowed ? ">= 0" : "> 0");
        try {
            Duration value = config.getDuration(key);
            if (value.isNegative() || (!zeroAllowed && value.isZero())) {
                problem(key, value.isZero() ? "zero" : "negative", expected);
            } else {
                return value;
            }
        } catch (ConfigException.BadValue | ConfigException.WrongType e) {
            problem(key, "not a duration", expected);
        }
        return Duration.ZERO;
    }

    private List<String> text(String key, boolean list) {
        try {
            return list ? config.getStringList(key) : List.of(config.getString(key));
        } catch (ConfigException.WrongType e) {
            problem(key, "wrong type", list ? "a list of strings" : "a string");
            return List.of();
        }
    }

    /** drover.user and drover.group, as names: they are resolved (and checked against this host) at start. */
    private RunAs runAs() {
        Optional<String> user = optionalText("user");
        Optional<String> group = optionalText("group");
        if (group.isPresent() && user.isEmpty()) {
            problem("group", "set without drover.user", "drover.user set too (the workers' user), or no group");
        }
        return new RunAs(user, group);
    }

    private Optional<String> optionalText(String key) {
        List<String> value = text(key, false);
        return value.isEmpty() || value.get(0).isBlank() ? Optional.empty() : Optional.of(value.get(0).trim());
    }

    private Optional<Path> optionalPath(String key) {
        List<String> value = text(key, false);
        return value.isEmpty() || value.get(0).isBlank() ? Optional.empty() : Optional.of(Path.of(value.get(0)));
    }

    /** A class name or a jar's path (AppKind tells which); whether the class or jar is usable, AppCheck checks. */
    private String app() {
        List<String> value = text("app", false);
        String name = value.isEmpty() ? "" : value.get(0).trim();
        if (name.isEmpty()) {
            problem("app", "no application given", "a DroverApp class such as dev.drover.sample.SampleApp, an "
                    + "executable jar such as my-service.jar, or a main class with drover.classpath, as the APP "
                    + "argument or drover.app");
        } else if (!AppKind.isJarPath(name)
                && !name.matches("[\\p{L}_$][\\p{L}\\p{N}_$]*(\\.[\\p{L}_$][\\p{L}\\p{N}_$]*)*")) {
            problem("app", "neither a Java class name nor a jar's path", "a fully qualified class name such as "
                    + "dev.drover.sample.SampleApp, or the path of an executable jar (a name ending in .jar)");
        }
        return name;
    }

    /**
     * The arguments of a jar's or main class's main(String[]). A NUL cannot be passed to a program (exec(2) ends
     * each argument at the first), so an argument holding one would reach the app cut short.
     */
    private List<String> appArgs() {
        List<String> args = text("app-args", true);
        for (String arg : args) {
            if (arg.indexOf('\0') >= 0) {
                problem("app-args", "an argument holds a NUL character, which no program argument can carry",
                        "a list of strings without NUL characters, such as [\"--spring.profiles.active=prod\"]");
            }
        }
        return List.copyOf(args);
    }

    /**
     * The addresses to listen on. Left at its default while systemd passed sockets, bind means those sockets, all of
     * them (as in Gunicorn): a socket unit then decides where the service listens.
     */
    private List<BindAddress> bindAddresses() {
        if (bindsPassedSockets()) {
            return activation.sockets().stream().map(p -> (BindAddress) new BindAddress.Fd(p.fd())).toList();
        }
        List<BindAddress> addresses = new ArrayList<>();
        for (String text : text("bind", true)) {
            if (text.trim().startsWith(BindAddress.SYSTEMD_PREFIX)) {
                addresses.addAll(passedSockets(text.trim().substring(BindAddress.SYSTEMD_PREFIX.length())));
                continue;
            }
            BindAddress address = BindAddress.parse(text);
            if (address == null) {
                problem("bind", "malformed address \"" + text + "\"", BindAddress.EXPECTED);
            } else {
                addresses.add(address);
            }
        }
        if (addresses.isEmpty() && problems.isEmpty()) {
            problem("bind", "no address to listen on", "at least one address: " + BindAddress.EXPECTED);
        }
        return addresses;
    }

    /**
     * metrics.bind: a TCP address or a Unix socket, never one the service listens on (scrapers and probes would
     * reach a worker, and the service's clients the metrics).
     */
    private MetricsSettings metricsSettings() {
        int readyMin = wholeNumber("metrics.ready-min-workers", 1);
        String text = text("metrics.bind", false).stream().findFirst().orElse("").trim();
        if (text.isEmpty()) {
            return new MetricsSettings(Optional.empty(), readyMin);
        }
        BindAddress address = BindAddress.parse(text);
        String expected = "\"\" (off), HOST:PORT, [IPv6]:PORT or unix:PATH, not one of drover.bind's addresses";
        if (address == null || address instanceof BindAddress.Fd) {
            problem("metrics.bind", "not an address the master can listen on", expected);
        } else if (!isAnyPort(address) && config.hasPath("bind") && text("bind", true).stream()
                .map(BindAddress::parse).anyMatch(address::equals)) {
            problem("metrics.bind", "the service's own address (drover.bind, " + origin("bind") + ")", expected);
        }
        return new MetricsSettings(Optional.ofNullable(address), readyMin);
    }

    private static boolean isAnyPort(BindAddress address) {
        return address instanceof BindAddress.Tcp tcp && tcp.port() == 0;
    }

    private boolean bindsPassedSockets() {
        return origin("bind").equals(DEFAULT_ORIGIN) && !activation.sockets().isEmpty();
    }

    /** systemd:NAME: every socket systemd passed under that name. */
    private List<BindAddress> passedSockets(String name) {
        List<SocketActivation.Passed> named = activation.named(name);
        if (named.isEmpty()) {
            problem("bind", "systemd passed no socket named \"" + name + "\" (passed: " + activation.describe()
                    + activation.ignored().map(why -> "; " + why).orElse("") + ")", "the name of a passed socket "
                    + "(FileDescriptorName= in the socket unit, its unit name by default; --fdname= of "
                    + "systemd-socket-activate), with the master started by systemd for that socket unit");
        }
        return named.stream().map(p -> (BindAddress) new BindAddress.Fd(p.fd())).toList();
    }

    private int fileMode(String key) {
        List<String> value = text(key, false);
        String mode = value.isEmpty() ? "" : value.get(0);
        if (mode.matches("0?[0-7]{3}")) {
            return Integer.parseInt(mode, 8);
        }
        problem(key, "not a file mode", "three octal digits such as 0660");
        return 0660;
    }
}
