package dev.drover.supervisor.os;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries a worker's stdout and stderr into the master's log, one line at a time with the worker's name, keeps
 * the last lines for error reports, and reports the exit status once the output ends and the process is gone.
 */
public final class WorkerOutput {

    private static final Logger log = LoggerFactory.getLogger("worker");
    /** Lines kept for a boot-failure report: enough for an exception and the top of its stack. */
    static final int TAIL_LINES = 30;

    private final ArrayDeque<String> tail = new ArrayDeque<>();

    /** Starts the reader thread; {@code onExit} gets the exit status, from that thread. */
    public static WorkerOutput follow(Process process, String workerName, IntConsumer onExit) {
        WorkerOutput output = new WorkerOutput();
        Thread reader = new Thread(null, () -> output.pump(process, workerName, onExit),
                "drover-output-" + process.pid(), 256 * 1024);
        reader.setDaemon(true);
        reader.start();
        return output;
    }

    private void pump(Process process, String workerName, IntConsumer onExit) {
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                log.info("{} | {}", workerName, line);
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
