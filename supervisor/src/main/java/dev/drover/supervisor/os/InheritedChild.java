package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntConsumer;

/**
 * A child this process did not start through the JDK: one the program before an exec in place started (the old
 * master's workers). The JDK's reaper does not know it, so it is reaped here with waitpid(2) on its own pid, never
 * waitpid(-1), which would steal the exits of the JDK's own children. Until it is reaped its pid cannot be reused, so
 * signalling it by pid is safe.
 */
public final class InheritedChild {

    private final long pid;

    public InheritedChild(long pid) {
        this.pid = pid;
    }

    public long pid() {
        return pid;
    }

    /** Waits for its exit on a thread of its own and reports the status (128+N when killed by signal N) once. */
    public void follow(String name, IntConsumer onExit) {
        CompletableFuture<Void> reaped = new CompletableFuture<>();
        Children.inherit(pid, reaped); // as PID 1, the orphan reaper leaves it to this thread
        Thread t = new Thread(() -> {
            int status = waitForExit();
            reaped.complete(null);
            onExit.accept(status);
        }, "drover-reap-" + pid);
        t.setDaemon(true);
        t.start();
    }

    private int waitForExit() {
        int[] status = new int[1];
        while (true) {
            long got = Posix.posix().waitpid(pid, status, 0);
            if (got == pid) {
                int s = status[0];
                return (s & 0x7f) == 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f);
            }
            if (Posix.posix().errno() != 4) { // anything but EINTR: not our child (any more); report it as gone
                return -1;
            }
        }
    }

    /** kill(2) by pid: null once sent, else why not. */
    public String signal(int signal) {
        return Posix.kill(pid, signal);
    }

    /** This process's children now, from /proc/self/task/TID/children (every thread's). */
    public static List<Long> childrenOfSelf() {
        List<Long> pids = new ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                try {
                    for (String pid : Files.readString(task.resolve("children")).trim().split("\\s+")) {
                        if (!pid.isEmpty()) {
                            pids.add(Long.parseLong(pid));
                        }
                    }
                } catch (IOException e) {
                    // the thread ended meanwhile: its children are listed under the thread that remains
                }
            }
        } catch (IOException e) {
            return pids;
        }
        return pids;
    }
}
