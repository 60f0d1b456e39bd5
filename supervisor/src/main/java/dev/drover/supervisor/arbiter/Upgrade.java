package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.control.Json;
import dev.drover.supervisor.os.ExecInPlace;
import dev.drover.supervisor.os.InheritedChild;
import dev.drover.supervisor.os.Listener;
import dev.drover.supervisor.upgrade.DroverVersion;
import dev.drover.supervisor.upgrade.LaunchCommand;
import dev.drover.supervisor.upgrade.UpgradeState;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * `drover ctl upgrade`, the old master's side: runs the installation now on disk with --check-config (the same
 * arguments and environment as this master's start), and only if that passes, execs it in place, under this pid,
 * with the listening sockets kept open and described in {@link UpgradeState}. The workers serve on meanwhile
 * (they outlive the closed link: their parent is still this pid); the new master's {@link Takeover} replaces them.
 */
public final class Upgrade {

    private static final Logger log = LoggerFactory.getLogger(Upgrade.class);
    /** How long the new installation's configuration check may run (a JVM start, the app's class checks). */
    static final Duration CHECK_TIMEOUT = Duration.ofSeconds(60);
    /** How much of a failed check's output `drover ctl upgrade` prints (the log has it all). */
    static final int LINES_ANSWERED = 10;

    /** How this master was started: its arguments and its environment at start, from which it is started again. */
    public record Launch(List<String> arguments, Map<String, String> environment, int upgrades) {
    }

    private final Workers workers;
    private final Generations generations;
    private final Shutdown shutdown;
    private final Cds cds;
    private final Consumer<Event> post;
    private final LongSupplier clock;
    private final Launch launch;

    /** The check under way, if any. */
    private Process check;
    private List<String> argv;
    private CompletableFuture<String> reply;
    private long checkDeadline;

    Upgrade(Workers workers, Generations generations, Shutdown shutdown, Cds cds, Consumer<Event> post,
            LongSupplier clock, Launch launch) {
        this.workers = workers;
        this.generations = generations;
        this.shutdown = shutdown;
        this.cds = cds;
        this.post = post;
        this.clock = clock;
        this.launch = launch;
    }

    /** Starts the check; {@code answer} is completed with its refusal, or never: the exec closes the connection. */
    void start(String source, CompletableFuture<String> answer) throws Control.Refused {
        refuseNow(source);
        if (check != null) {
            throw new Control.Refused(source + ": an upgrade is already being checked");
        }
        try {
            argv = LaunchCommand.resolve(launch.arguments());
        } catch (IOException e) {
            throw refused(source, "cannot tell how to start the installation: " + e.getMessage());
        }
        List<String> command = LaunchCommand.check(argv);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().clear();
        builder.environment().putAll(launch.environment());
        builder.environment().remove(UpgradeState.VARIABLE);
        try {
            check = builder.start();
        } catch (IOException e) {
            throw refused(source, "cannot run " + String.join(" ", command) + ": " + e.getMessage());
        }
        reply = answer;
        checkDeadline = clock.getAsLong() + CHECK_TIMEOUT.toNanos();
        log.info("{}: checking the configuration with the installation on disk: {}", source, String.join(" ", command));
        follow(check);
    }

    /** The check's output is read on a thread of its own; its end becomes an event for the arbiter. */
    private void follow(Process process) {
        Thread reader = new Thread(() -> {
            List<String> lines = new ArrayList<>();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(reading its output failed: " + e.getMessage() + ")");
            }
            int status;
            try {
                status = process.waitFor();
            } catch (InterruptedException e) {
                return;
            }
            post.accept(new Event.UpgradeChecked(status, List.copyOf(lines)));
        }, "drover-upgrade-check");
        reader.setDaemon(true);
        reader.start();
    }

    /** On every tick: a check that runs too long is killed (its exit then refuses the upgrade). */
    void tick(long now) {
        if (check != null && now - checkDeadline >= 0 && check.isAlive()) {
            log.warn("upgrade: the configuration check did not finish within {}; killing it", Arbiter.seconds(CHECK_TIMEOUT));
            check.destroyForcibly();
        }
    }

    /** The check ended: a failure refuses the upgrade (nothing changed); a pass execs the new master in place. */
    void onChecked(int status, List<String> output) {
        CompletableFuture<String> answer = reply;
        check = null;
        reply = null;
        if (status != 0) {
            String why = "upgrade refused, nothing changed: the new installation's configuration check failed (exit "
                    + status + ")";
            log.error("drover ctl upgrade: {}; its output:\n  {}", why, String.join("\n  ", output));
            answer.complete(Json.write(Map.of("error", why + ":\n  " + String.join("\n  ",
                    output.subList(Math.max(0, output.size() - LINES_ANSWERED), output.size())))));
            return;
        }
        try {
            refuseNow("drover ctl upgrade");
        } catch (Control.Refused e) {
            answer.complete(Json.write(Map.of("error", e.getMessage())));
            return;
        }
        exec(answer);
    }

    private void exec(CompletableFuture<String> answer) {
        cds.abort(); // a training run is killed; the new master reaps it with the other children
        UpgradeState state = state();
        Map<String, String> env = new HashMap<>(launch.environment());
        env.put(UpgradeState.VARIABLE, state.encode());
        log.info("upgrade: the configuration is valid; drover {} master {} execs {} in place, handing over {} "
                + "socket(s) and {} worker(s)", state.version(), ProcessHandle.current().pid(), String.join(" ", argv),
                state.sockets().size(), state.workers().size());
        String failure = ExecInPlace.exec(argv, env, state.sockets().stream().map(UpgradeState.Socket::fd).toList());
        String why = "upgrade failed, this master serves on: " + failure;
        log.error("drover ctl upgrade: {}", why);
        answer.complete(Json.write(Map.of("error", why)));
    }

    private UpgradeState state() {
        Map<String, UpgradeState.Socket> sockets = new LinkedHashMap<>();
        List<Listener> inUse = new ArrayList<>(generations.current().listeners());
        workers.all().forEach(w -> inUse.addAll(w.listeners()));
        inUse.forEach(l -> sockets.putIfAbsent(l.address().toString(), new UpgradeState.Socket(l.address().toString(),
                l.fd())));
        List<UpgradeState.Child> children = workers.all().stream().map(w -> new UpgradeState.Child(w.pid(), w.id(),
                w.generation(), w.state().label())).toList();
        List<Long> others = InheritedChild.childrenOfSelf().stream()
                .filter(pid -> children.stream().noneMatch(c -> c.pid() == pid)).toList();
        return new UpgradeState(DroverVersion.current(), generations.current().number(), launch.upgrades() + 1,
                List.copyOf(sockets.values()), children, others);
    }

    private void refuseNow(String source) throws Control.Refused {
        if (shutdown.underway()) {
            throw refused(source, "the master is stopping");
        }
        if (!generations.reloadPhase().equals("none")) {
            throw refused(source, "a reload is under way (reload: " + generations.reloadPhase() + "); upgrade when "
                    + "it has ended (`drover ctl status`)");
        }
        var settings = generations.current().settings();
        if (settings.memory().hardLimit() > 0 && settings.memory().cgroups()) {
            throw refused(source, "workers run in cgroups of their own (drover.memory.hard-limit with "
                    + "drover.memory.cgroups = auto), which an upgrade in place cannot hand over yet; set "
                    + "drover.memory.cgroups = off, or restart instead");
        }
    }

    private static Control.Refused refused(String source, String why) {
        log.warn("{}: upgrade refused, nothing changed: {}", source, why);
        return new Control.Refused("upgrade refused, nothing changed: " + why, true);
    }
}
