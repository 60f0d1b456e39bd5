package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The master's open-file limit (RLIMIT_NOFILE): every connection a worker holds is a descriptor, and the soft limit
 * (often 1024) is what a process gets unless it asks for more. The master raises it to the hard limit at start, as
 * nginx's worker_rlimit_nofile does, and its workers inherit it (a child starts with its parent's limits).
 * HotSpot already does this for its own process on Linux (-XX:+MaxFDLimit, on by default), so usually there is
 * nothing left to raise by the time this runs; the launcher passes the soft limit it was started with
 * ({@value #LAUNCH_PROPERTY}) so that the log line can say what it was.
 */
public final class OpenFiles {

    /** The soft limit scripts/drover was started with ({@code ulimit -Sn}). */
    public static final String LAUNCH_PROPERTY = "drover.launch.open-files";
    static final long UNLIMITED = -1;

    private OpenFiles() {
    }

    /** Soft and hard limit; {@link #UNLIMITED} for "unlimited". */
    record Limits(long soft, long hard) {
    }

    /** Raises the soft limit to the hard one if it is lower; returns the line that says what the limit is now. */
    public static String raiseToHard() {
        Limits now;
        try {
            now = read();
        } catch (IOException | RuntimeException e) {
            return "open files: cannot read the limit from /proc/self/limits (" + e.getMessage() + "); left as it is";
        }
        if (now.soft() != now.hard()) {
            String failure = Posix.setOpenFileLimit(now.hard(), now.hard());
            if (failure != null) {
                return "open files: soft limit " + show(now.soft()) + " (hard " + show(now.hard()) + "); cannot raise "
                        + "it: " + failure;
            }
        }
        long launched = parse(System.getProperty(LAUNCH_PROPERTY, ""), now.soft());
        if (launched != now.hard()) {
            return "open files: soft limit " + show(launched) + " -> " + show(now.hard())
                    + " (the hard limit; workers inherit it)";
        }
        return "open files: " + show(now.hard()) + " (soft and hard limit alike; workers inherit it)";
    }

    /** The "Max open files" row of /proc/self/limits: a descriptor's worth of reading, no native call. */
    static Limits read() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                String[] words = line.substring("Max open files".length()).trim().split("\\s+");
                return new Limits(parse(words[0], UNLIMITED), parse(words[1], UNLIMITED));
            }
        }
        throw new IOException("no \"Max open files\" line");
    }

    private static long parse(String value, long otherwise) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return otherwise; // "unlimited", or the launcher did not say
        }
    }

    private static String show(long limit) {
        return limit == UNLIMITED ? "unlimited" : Long.toString(limit);
    }
}
