package dev.drover.supervisor.os;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.IntConsumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Carries a worker's stdout and stderr into the master's log, one line at a time with the worker's name and at the
 * worker's own level (its log lines begin with it: dev.drover.logging.DroverLogConfigurator; a stack trace keeps its
 * event's level; anything else the worker printed is INFO), keeps the last lines for error reports, and reports the
 * exit status once the output ends and the process is gone.
 */
public final class WorkerOutput {

    private static final Logger log = LoggerFactory.getLogger("worker");
    /** Lines kept for a boot-failure report: enough for an exception and the top of its stack. */
    static final int TAIL_LINES = 30;

    private final ArrayDeque<String> tail = new ArrayDeque<>();
    /** The name its lines carry: a promoted spare's changes (rename). */
    private volatile String workerName;

    private WorkerOutput(String workerName) {
        this.workerName = workerName;
    }

    /** Starts the reader thread; {@code onExit} gets the exit status, from that thread. */
    public static WorkerOutput follow(Process process, String workerName, IntConsumer onExit) {
        WorkerOutput output = new WorkerOutput(workerName);
        Thread reader = new Thread(null, () -> output.pump(process, onExit),
                "drover-output-" + process.pid(), 256 * 1024);
        reader.setDaemon(true);
        reader.start();
        return output;
    }

    /** The lines from now on carry {@code name} (a spare promoted into a slot). */
    public void rename(String name) {
        workerName = name;
    }

    private void pump(Process process, IntConsumer onExit) {
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            Level level = Level.INFO;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                level = levelOf(line, level);
                log.atLevel(level).log("{} | {}", workerName, line);
                remember(line);
            }
        } catch (IOException e) {
            log.debug("{}: output ended: {}", workerName, e.getMessage());
        }
        int status;
        while (true) {
            try {
                status = process.waitFor();
                break;
            } catch (InterruptedException e) {
                // keep waiting: the exit status must reach the arbiter
            }
        }
        onExit.accept(status);
    }

    /**
     * The level to relay {@code line} at: the one it begins with ({@code "ERROR "}, {@code "WARN  "}, ...); a line of
     * a stack trace (indented, "Caused by:", or an exception's name right after a logged line) keeps the level of
     * the line before it; any other line is INFO.
     */
    static Level levelOf(String line, Level previous) {
        for (Level level : LEVELS) {
            String name = level.name();
            if (line.startsWith(name) && line.length() > name.length() && line.charAt(name.length()) == ' ') {
                return level;
            }
        }
        boolean traceLine = line.startsWith("\t") || line.startsWith(" ") || line.startsWith("Caused by: ")
                || line.startsWith("Suppressed: ") || EXCEPTION.matcher(line).lookingAt();
        return traceLine ? previous : Level.INFO;
    }

    private static final List<Level> LEVELS = List.of(Level.ERROR, Level.WARN, Level.INFO, Level.DEBUG, Level.TRACE);
    /** The first line of a stack trace: a qualified class name, then ": message" or nothing. */
    private static final Pattern EXCEPTION = Pattern.compile("([a-zA-Z_$][\\w$]*\\.)+[A-Z][\\w$]*(: |$)");

    private synchronized void remember(String line) {
        if (tail.size() == TAIL_LINES) {
            tail.removeFirst();
        }
        tail.addLast(line);
    }

    /** The worker's last lines of output. Complete once the exit status was reported. */
    public synchronized List<String> tail() {
        return List.copyOf(tail);
    }
}
