package dev.drover.supervisor.arbiter;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Every operation on a running master, with the signal that triggers it (if any) and its `drover ctl` form: one
 * table, one dispatch ({@link Control}), and docs/signals.md lists the same rows (a unit test checks that).
 * Signals coalesce when sent in bursts, so they mean "at least once"; exact operations go through `drover ctl`.
 */
public enum Command {
    STATUS("status", null, "the master, recycle counts per reason and every worker; --json prints JSON"),
    RELOAD("reload", "HUP", "re-read the configuration (same file, environment and flags as at start); if it is valid, "
            + "start a new generation: a canary worker first, then every old worker replaced surge-first; an invalid "
            + "configuration or a canary that cannot boot changes nothing. `drover ctl reload` waits for the outcome: "
            + "exit 0 when the new generation serves (complete, or committed with old workers still draining), 2 with "
            + "the reason when it was refused or abandoned, 3 when the canary is still booting after boot-timeout + 10 s "
            + "(at most 50 s; `drover ctl status` then shows the outcome)"),
    STOP("stop", "TERM", "graceful stop: with shutdown-delay set, every worker first serves on that long while "
            + "readiness fails (a second TERM or stop, or an INT, ends the wait); then workers stop accepting and finish "
            + "their requests within graceful-timeout, then SIGKILL; exit 0"),
    STOP_QUICK("stop --quick", "INT", "quick stop: workers get INT and 2 s, then SIGKILL; each worker's exit is logged "
            + "as a stop; exit 0"),
    INCR("incr", "TTIN", "one worker more"),
    DECR("decr", "TTOU", "one worker fewer, never below 1; the one removed is drained, not killed"),
    SCALE("scale N", null, "run N workers (N >= 1); also brings workers back after WINCH"),
    RECYCLE("recycle ID", null, "replace worker ID surge-first (its replacement is ready before it drains)"),
    REOPEN_LOGS("reopen-logs", "USR1", "reopen the log file (drover.log-file), e.g. after logrotate moved it; if it cannot "
            + "be opened (its directory gone or unwritable), logging goes on into the file that was open and the error "
            + "is logged and answered"),
    PAUSE("pause", "WINCH", "drain every worker but keep the master and its sockets (connections wait in the "
            + "backlog); reload or scale N brings workers back"),
    LEAKS("leaks", null, "the latest leak reports (written at every memory recycle), newest first, one line each "
            + "beginning with the report's ID; --json prints JSON"),
    LEAK("leaks REPORT", null, "one leak report in full: growth rate, where the memory went, the classes that grew; "
            + "--json prints JSON"),
    SNAPSHOT("snapshot ID", null, "worker ID's memory now, and it goes on serving: the classes holding the most live "
            + "heap (a full GC), live heap, metaspace and classes, direct buffers, threads, and what grew since its "
            + "baseline; --json prints JSON"),
    HEALTH("health", null, "liveness and readiness, as /healthz and /readyz judge them (answered without waiting for the "
            + "master's loop): exit 0 ready, 1 alive but not ready (stopping, or fewer than metrics.ready-min-workers "
            + "serving), 3 not alive (its loop stuck, or the master cannot be reached)"),
    UPGRADE("upgrade", null, "replace the master by the Drover installed now, under the same pid: the new installation "
            + "checks the configuration first (a failure changes nothing: exit 2 with the reason), then the master execs "
            + "it in place keeping its sockets; the old workers serve until the new master's workers are ready, then "
            + "drain. `drover ctl upgrade` waits for the new master: exit 0 once the old workers are gone, 3 if it is "
            + "still taking over after 120 s"),
    HEAPDUMP("heapdump ID PATH", null, "worker ID writes a heap dump of its live objects (.hprof, for Eclipse MAT or "
            + "VisualVM) to PATH, absolute, on the worker's host; it pauses while it writes, then goes on serving");

    /** Signals a JVM cannot take as commands, and what replaces them; docs/signals.md shows these rows too. */
    public static final List<String[]> NOT_COMMANDS = List.of(
            new String[] {"QUIT", "the JVM's own: it prints the master's thread dump and goes on; use `drover ctl stop --quick`"},
            new String[] {"USR2", "used by HotSpot itself, never handled; a reload (HUP) starts fresh worker JVMs with "
                    + "the app's new code, and `drover ctl upgrade` replaces the master by a new Drover under the same pid "
                    + "(no signal: every other one is taken)"});

    private final String usage;
    private final String signal;
    private final String effect;

    Command(String usage, String signal, String effect) {
        this.usage = usage;
        this.signal = signal;
        this.effect = effect;
    }

    public String usage() {
        return usage;
    }

    public Optional<String> signal() {
        return Optional.ofNullable(signal);
    }

    public String effect() {
        return effect;
    }

    /** The signals the master handles, without "SIG". */
    public static List<String> signals() {
        return Arrays.stream(values()).map(c -> c.signal).filter(s -> s != null).toList();
    }

    public static Optional<Command> forSignal(String name) {
        return Arrays.stream(values()).filter(c -> name.equals(c.signal)).findFirst();
    }

    /**
     * A parsed `drover ctl` line: the command, its number (ID or N; -1 when it takes none) and its word (REPORT or
     * PATH; "" when it takes none).
     */
    public record Parsed(Command command, int argument, String text) {
        Parsed(Command command, int argument) {
            this(command, argument, "");
        }
    }

    /** Parses a ctl line such as "scale 3"; the exception's message names the line and what was expected. */
    public static Parsed parse(String line) {
        String[] words = line.trim().split("\\s+");
        String joined = String.join(" ", words);
        boolean nameKnown = false;
        for (Command c : values()) {
            String[] form = c.usage.split(" ");
            if (!words[0].equals(form[0])) {
                continue;
            }
            nameKnown = true;
            if (words.length != form.length) {
                continue;
            }
            int number = -1;
            String text = "";
            boolean matches = true;
            for (int i = 1; i < form.length && matches; i++) {
                switch (form[i]) {
                    case "ID", "N" -> {
                        matches = words[i].matches("\\d{1,9}");
                        number = matches ? Integer.parseInt(words[i]) : -1;
                    }
                    case "REPORT", "PATH" -> text = words[i];
                    default -> matches = words[i].equals(form[i]);
                }
            }
            if (matches) {
                return new Parsed(c, number, text);
            }
        }
        if (nameKnown) {
            List<String> forms = Arrays.stream(values()).map(Command::usage).filter(u -> u.split(" ")[0].equals(words[0]))
                    .toList();
            throw new IllegalArgumentException("\"" + joined + "\": expected " + String.join(" or ", forms)
                    + " (ID and N are whole numbers)");
        }
        throw new IllegalArgumentException("unknown command \"" + joined + "\" (expected one of: "
                + String.join(", ", Arrays.stream(values()).map(Command::usage).toList()) + ")");
    }
}
