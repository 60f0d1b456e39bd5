package dev.drover.supervisor.arbiter;

import java.util.Locale;

/** A worker's phase as the master sees it; `drover ctl status` shows it in lower case. */
public enum WorkerState {
    /** Spawned, not READY yet. */
    BOOTING,
    /** READY and accepting connections. */
    SERVING,
    /** Told to stop accepting and finish its requests; SIGKILLed if it has not exited by its deadline. */
    DRAINING;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
