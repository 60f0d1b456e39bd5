package dev.drover.supervisor.os;

import java.util.List;
import java.util.Optional;

/**
 * Recognises a worker that HotSpot ended because of -XX:+ExitOnOutOfMemoryError, from its exit status and its last
 * lines of output, and names the kind of OutOfMemoryError (Java heap space, Metaspace, Direct buffer memory, ...).
 */
public final class OutOfMemoryExit {

    /** HotSpot's exit status after ExitOnOutOfMemoryError (os::_exit(3) in report_java_out_of_memory). */
    static final int STATUS = 3;
    /** The line HotSpot prints on the JVM's stdout just before that exit. */
    static final String MARK = "Terminating due to java.lang.OutOfMemoryError: ";

    private OutOfMemoryExit() {
    }

    /**
     * The kind of OutOfMemoryError the worker died of, or empty if it did not die of one. Exit status 3 is also
     * Drover's own boot error (ExitCodes.WORKER_BOOT_ERROR), so the status alone proves nothing: HotSpot's line must
     * be among the last ones. The latest such line wins (only one can be printed per JVM, but be safe).
     */
    public static Optional<String> kind(int status, List<String> lastLines) {
        if (status != STATUS) {
            return Optional.empty();
        }
        for (int i = lastLines.size() - 1; i >= 0; i--) {
            String line = lastLines.get(i);
            int at = line.indexOf(MARK);
            if (at >= 0) {
                String kind = line.substring(at + MARK.length()).strip();
                return Optional.of(kind.isEmpty() ? "unknown kind" : kind);
            }
        }
        return Optional.empty();
    }

    /** How logs and leak reports name it: "java.lang.OutOfMemoryError: Java heap space". */
    public static String describe(String kind) {
        return "java.lang.OutOfMemoryError: " + kind;
    }
}
