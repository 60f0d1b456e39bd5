package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Memory readings of a process from /proc. statm (RSS) costs ~10-15 µs and is read every tick; smaps_rollup
 * (PSS) costs 1-20 ms, growing with RSS, so callers read it rarely (docs/platform-notes.md §5).
 */
public final class ProcMemory {

    private static final long PAGE_SIZE = 4096;

    private ProcMemory() {
    }

    /** Resident set size in bytes, or -1 if the process is gone. */
    public static long rssBytes(long pid) {
        try {
            String statm = Files.readString(Path.of("/proc", Long.toString(pid), "statm"), StandardCharsets.US_ASCII);
            String[] fields = statm.split(" ", 3);
            return Long.parseLong(fields[1]) * PAGE_SIZE;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * PSS (shared pages split among their users) and USS (pages only this process maps: what killing it frees),
     * in bytes; -1 each if the process is gone.
     */
    public record Rollup(long pssBytes, long ussBytes) {
        static final Rollup GONE = new Rollup(-1, -1);
    }

    public static Rollup rollup(long pid) {
        long pss = -1;
        long privateClean = 0;
        long privateDirty = 0;
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
                if (line.startsWith("Pss:")) {
                    pss = kibToBytes(line);
                } else if (line.startsWith("Private_Clean:")) {
                    privateClean = kibToBytes(line);
                } else if (line.startsWith("Private_Dirty:")) {
                    privateDirty = kibToBytes(line);
                }
            }
        } catch (IOException | RuntimeException e) {
            return Rollup.GONE;
        }
        return pss < 0 ? Rollup.GONE : new Rollup(pss, privateClean + privateDirty);
    }

    private static long kibToBytes(String line) {
        return Long.parseLong(line.substring(line.indexOf(':') + 1).replace("kB", "").trim()) * 1024;
    }
}
