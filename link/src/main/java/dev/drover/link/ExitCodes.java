package dev.drover.link;

/** Process exit codes that the master and its workers agree on (Gunicorn's numbers where Gunicorn has one). */
public final class ExitCodes {
    public static final int OK = 0;
    /** An unexpected internal error. */
    public static final int INTERNAL_ERROR = 1;
    /** Bad configuration, flags or command: nothing was started. */
    public static final int USAGE = 2;
    /** The app's start() threw: the worker could not boot. */
    public static final int WORKER_BOOT_ERROR = 3;
    /** The app's class could not be loaded or initialised. */
    public static final int APP_LOAD_ERROR = 4;
    /** The worker could not attach to its master (control link or sockets). */
    public static final int LINK_ERROR = 5;
    /**
     * A foreign app's server cannot be driven (a second connector, the shared socket not adopted): the worker's
     * reason is on its stderr. The master refuses the app (exit 4 at start; a failed canary on reload).
     */
    public static final int UNSUPPORTED_SERVER = 6;

    private ExitCodes() {
    }
}
