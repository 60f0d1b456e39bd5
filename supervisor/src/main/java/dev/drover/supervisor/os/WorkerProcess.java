package dev.drover.supervisor.os;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * The master's hold on one worker's OS process: the only way it signals a worker. Every signal goes to that
 * process and no other, even once the JDK has reaped it and its pid may belong to someone else (ChildProcess);
 * tests give the arbiter a fake.
 */
public interface WorkerProcess {

    long pid();

    /**
     * Starts relaying its output into the log, each line labelled {@code name}; {@code onExit} gets its exit status
     * (128+N when killed by signal N) once, from another thread.
     */
    void follow(String name, IntConsumer onExit);

    /** Its output lines from now on carry {@code name} (a spare promoted into a slot); no-op where none is read. */
    default void rename(String name) {
    }

    /** SIGTERM. */
    void terminate();

    /** SIGKILL. */
    void kill();

    /** SIGQUIT: the JVM prints a thread dump and goes on. */
    void dumpThreads();

    /** SIGINT: the worker's quick stop. */
    void interrupt();

    /** Its resident set size in bytes (ProcMemory: cheap), or -1 once it is gone. */
    long rssBytes();

    /** Its PSS and USS (ProcMemory: milliseconds), -1 each once it is gone. */
    ProcMemory.Rollup rollup();

    /**
     * Addresses it listens on with TCP sockets of its own, not one of the master's {@code shared} ones: an app
     * that opened a port beside Drover's socket (ProcSockets).
     */
    default List<String> listeningBesides(List<Listener> shared) {
        return List.of();
    }

    /** Its last lines of output; complete once its exit was reported. */
    List<String> outputTail();

    /**
     * After its exit: if the kernel's OOM killer killed it in its own cgroup (memory.max), what happened, in words;
     * empty if it was not, or it has no cgroup of its own.
     */
    default java.util.Optional<String> kernelOomKill() {
        return java.util.Optional.empty();
    }

    /** It has exited and the master forgets it: whatever the master holds for it (its pidfd) is released. */
    void release();
}
