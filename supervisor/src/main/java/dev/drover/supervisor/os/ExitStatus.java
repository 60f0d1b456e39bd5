package dev.drover.supervisor.os;

/**
 * A worker's exit status in words. The JDK reports a child killed by signal N as 128+N, and a JVM that
 * handles TERM by default exits with 143 itself, so both read as "terminated by TERM".
 */
public final class ExitStatus {

    private static final String[] NAMES = {"", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL",
        "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM"};

    private ExitStatus() {
    }

    public static String describe(int status) {
        if (status > 128 && status - 128 < NAMES.length) {
            int signal = status - 128;
            String text = (signal == 15 ? "terminated by TERM" : "killed by signal " + signal + " (SIG" + NAMES[signal] + ")")
                    + " (exit status " + status + ")";
            if (signal == 9) {
                text += "; if nobody sent it, the kernel OOM killer may have (see dmesg)";
            }
            return text;
        }
        return "exited with code " + status;
    }
}
