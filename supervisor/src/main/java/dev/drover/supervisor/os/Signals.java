package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import sun.misc.Signal;

/**
 * Installs the master's signal handlers. Each handler's whole body is the {@code sink}: it only posts an event.
 * A signal that arrived ignored (nohup, a background job of a script) is reset to default first, or the JVM
 * would accept the handler and never call it (docs/platform-notes.md §1).
 */
public final class Signals {

    private Signals() {
    }

    /** Installs a handler for each named signal (without "SIG"); every delivery calls {@code sink} with the name. */
    public static void install(List<String> names, Consumer<String> sink) {
        long ignored = ignoredMask();
        for (String name : names) {
            Signal signal = new Signal(name);
            if ((ignored & (1L << (signal.getNumber() - 1))) != 0) {
                resetToDefault(signal);
            }
            Signal.handle(signal, s -> sink.accept(name));
        }
    }

    /**
     * A signal that stays ignored would make its command silently unusable, so a failure here stops the start,
     * naming the signal and errno.
     */
    private static void resetToDefault(Signal signal) {
        if (LibC.calls().signal(signal.getNumber(), LibC.SIG_DFL) == LibC.SIG_ERR) {
            throw new IllegalStateException("cannot reset SIG" + signal.getName() + ", which the master inherited "
                    + "ignored, to its default: signal(" + signal.getNumber() + ", SIG_DFL) failed: " + LibC.lastError()
                    + "; start the master without ignoring SIG" + signal.getName() + " (not under nohup)");
        }
    }

    /** The SigIgn mask of this process, from /proc/self/status: bit n-1 set means signal n is ignored. */
    static long ignoredMask() {
        return mask("SigIgn:");
    }

    /** A signal mask line of /proc/self/status (SigIgn:, SigCgt: caught); -1 (all) if it cannot be read. */
    static long mask(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    return Long.parseUnsignedLong(line.substring(field.length()).trim(), 16);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1L; // cannot tell: reset every signal we handle, which is harmless
        }
        return 0;
    }
}
