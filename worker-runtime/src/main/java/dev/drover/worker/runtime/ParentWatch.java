package dev.drover.worker.runtime;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * The fallback check that the master is still alive (the control link's EOF is the first): polls this process's
 * parent pid, and calls {@code onGone} (with the new parent's pid) only when it has read a parent that is not the master. It reads through a
 * descriptor of /proc/self/stat opened once at start (each read from offset 0 is a fresh snapshot), because
 * ProcessHandle.parent() opens /proc anew every time: once a worker has used every descriptor it may have (EMFILE,
 * under a connection flood), that answered "no parent", and the worker exited as if its master had died.
 */
final class ParentWatch {

    private static final LazyLogging.Log log = LazyLogging.Log.of(ParentWatch.class);

    private final long masterPid;
    private final long pollMs;
    private final LongConsumer onGone;
    private final RandomAccessFile stat;
    private boolean readFailed;

    private ParentWatch(long masterPid, long pollMs, LongConsumer onGone, RandomAccessFile stat) {
        this.masterPid = masterPid;
        this.pollMs = pollMs;
        this.onGone = onGone;
        this.stat = stat;
    }

    /**
     * Starts the watching thread and returns what reads the parent pid (-1: unknown); without /proc (nothing to watch
     * with) the control link is the only check, and the parent is always unknown.
     */
    static LongSupplier start(long masterPid, long pollMs, LongConsumer onGone) {
        RandomAccessFile stat;
        try {
            stat = new RandomAccessFile("/proc/self/stat", "r");
        } catch (IOException e) {
            System.err.println("drover worker: cannot open /proc/self/stat (" + e.getMessage() + "); only the control"
                    + " link tells this worker that its master is gone");
            return () -> -1;
        }
        ParentWatch watcher = new ParentWatch(masterPid, pollMs, onGone, stat);
        Thread watch = new Thread(watcher::run, "drover-parent-watch");
        watch.setDaemon(true);
        watch.start();
        return watcher::parentPid;
    }

    private void run() {
        while (true) {
            long parent = parentPid();
            if (parent != -1 && parent != masterPid) {
                onGone.accept(parent);
            }
            try {
                Thread.sleep(pollMs);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The parent pid, or -1 if it could not be read this time (which says nothing about the master). */
    private synchronized long parentPid() {
        try {
            byte[] bytes = new byte[1024];
            stat.seek(0);
            int n = stat.read(bytes);
            long parent = parse(new String(bytes, 0, Math.max(0, n), StandardCharsets.US_ASCII));
            readFailed = false;
            return parent;
        } catch (IOException | RuntimeException e) {
            if (!readFailed) {
                readFailed = true;
                log.warn("cannot read the parent pid from /proc/self/stat ({}); the control link still tells when the"
                        + " master is gone", e.toString());
            }
            return -1;
        }
    }

    /** The 4th field of /proc/PID/stat; the 2nd, the command name in parentheses, may itself hold spaces or ')'. */
    static long parse(String stat) {
        String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ", 3);
        return Long.parseLong(after[1]);
    }
}
