package dev.drover.supervisor.os;

import java.util.List;
import java.util.Optional;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker JVM started by ProcessBuilder, signalled so that no signal can reach another process: the JDK reaps
 * its children on a thread of its own, after which the pid may be handed to anyone (docs/platform-notes.md §2).
 * TERM and KILL go through the JDK's Process, which checks under its lock that it has not reaped the process;
 * QUIT and INT, which the JDK cannot send, through a pidfd (Pidfd), which names this one process for ever.
 */
final class ChildProcess implements WorkerProcess {

    private static final Logger log = LoggerFactory.getLogger(ChildProcess.class);

    private final Process process;
    /** The worker's own cgroup (cgroup v2 delegated), removed at release. */
    private final Optional<WorkerCgroup> cgroup;
    /** What the kernel's OOM killer did in that cgroup, read as the exit was reported. */
    private volatile Optional<String> oomKill = Optional.empty();
    private String name;
    private WorkerOutput output;
    /** Null if the kernel has no pidfd_open, or the process had exited before it could be opened. */
    private Pidfd pidfd;

    private ChildProcess(Process process, Pidfd pidfd, Optional<WorkerCgroup> cgroup) {
        this.process = process;
        this.cgroup = cgroup;
        this.name = "pid " + process.pid();
        this.pidfd = pidfd;
    }

    /** Takes a just-started process in hand: its pidfd is opened at once, before anything else can happen. */
    static ChildProcess adopt(Process process) {
        return adopt(process, Optional.empty());
    }

    /** As {@link #adopt(Process)}, for a worker started inside its own {@code cgroup}. */
    static ChildProcess adopt(Process process, Optional<WorkerCgroup> cgroup) {
        return new ChildProcess(process, openPidfd(process, "pid " + process.pid()), cgroup);
    }

    /** memory.events is read before the exit is reported, so that the arbiter finds the verdict when it looks. */
    @Override
    public synchronized void follow(String name, IntConsumer onExit) {
        this.name = name;
        this.output = WorkerOutput.follow(process, name, status -> {
            oomKill = cgroup.flatMap(WorkerCgroup::oomKill);
            onExit.accept(status);
        });
    }

    @Override
    public synchronized void rename(String name) {
        this.name = name;
        if (output != null) {
            output.rename(name);
        }
    }

    @Override
    public Optional<String> kernelOomKill() {
        return oomKill;
    }

    /**
     * Between start() and pidfd_open the child may already have exited, been reaped by the JDK and its pid reused:
     * then the pidfd names a stranger. The JDK marks a process exited right after reaping it, so a process it still
     * reports alive after the open was not reaped before it, and the pidfd is its own. (What remains is the instant
     * between the JDK's waitpid and its mark, with the kernel cycling through every pid meanwhile: the same window
     * the JDK's own destroy() accepts.)
     */
    private static Pidfd openPidfd(Process process, String label) {
        Pidfd fd;
        try {
            fd = Pidfd.open(process.pid());
        } catch (Pidfd.Unavailable e) {
            log.warn("{}: {}; QUIT and INT go through the JDK's process lock instead", label, e.getMessage());
            return null;
        }
        if (!process.isAlive()) {
            fd.close(); // may name another process now: never used
            return null;
        }
        return fd;
    }

    @Override
    public long pid() {
        return process.pid();
    }

    @Override
    public void terminate() {
        process.destroy();
    }

    @Override
    public void kill() {
        process.destroyForcibly();
    }

    @Override
    public void dumpThreads() {
        send(LibC.SIGQUIT, "SIGQUIT");
    }

    @Override
    public void interrupt() {
        send(LibC.SIGINT, "SIGINT");
    }

    private synchronized void send(int signal, String signalName) {
        String failure = pidfd != null ? pidfd.sendSignal(signal) : killUnderProcessLock(signal);
        if (failure == null) {
            return;
        }
        if (failure.equals(Pidfd.GONE)) {
            log.debug("{}: {} not delivered: it has exited already", name, signalName);
        } else {
            log.warn("{}: cannot send {}: {}", name, signalName, failure);
        }
    }

    /**
     * Without a pidfd: kill(2) while holding the lock under which the JDK marks the process exited, the check its
     * own destroy() makes (java.lang.ProcessImpl). Returns null, Pidfd.GONE, or why kill failed.
     */
    private String killUnderProcessLock(int signal) {
        synchronized (process) {
            if (!process.isAlive()) {
                return Pidfd.GONE;
            }
            return Posix.kill(process.pid(), signal);
        }
    }

    @Override
    public long rssBytes() {
        return ProcMemory.rssBytes(process.pid());
    }

    @Override
    public List<String> listeningBesides(List<Listener> shared) {
        java.util.Set<Long> inodes = new java.util.HashSet<>();
        shared.forEach(listener -> inodes.add(ProcSockets.ownInode(listener.fd())));
        return ProcSockets.listeningBesides(process.pid(), inodes);
    }

    @Override
    public ProcMemory.Rollup rollup() {
        return ProcMemory.rollup(process.pid());
    }

    @Override
    public synchronized List<String> outputTail() {
        return output == null ? List.of() : output.tail();
    }

    @Override
    public synchronized void release() {
        if (pidfd != null) {
            pidfd.close();
            pidfd = null;
        }
        if (cgroup.isPresent() && !cgroup.get().remove()) {
            log.debug("{}: cannot remove its cgroup {} yet; the master's exit tries again", name, cgroup.get());
        }
    }
}
