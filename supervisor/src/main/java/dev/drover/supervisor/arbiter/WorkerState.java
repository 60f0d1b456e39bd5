package dev.drover.supervisor.arbiter;

import java.util.Locale;

/** A worker's phase as the master sees it; `drover ctl status` shows it in lower case. */
public enum WorkerState {
    /**
     * A standby JVM (drover.standby-jvms): booted with Drover's runtime and no app, holding no slot, until a spawn
     * adopts it (ADOPT); BOOTING from then on, as a worker just spawned.
     */
    STANDBY,
    /** Spawned, not READY yet. */
    BOOTING,
    /** READY and accepting connections. */
    SERVING,
    /**
     * A spare (drover.spare-workers): READY, not accepting and holding no slot, until promoted into a slot that needs
     * a new worker; it is SERVING from then on. (A spare that boots is BOOTING, in no slot either.)
     */
    SPARE,
    /** Told to stop accepting and finish its requests; SIGKILLed if it has not exited by its deadline. */
    DRAINING,
    /** Being killed (hang, hard memory limit, boot timeout): no longer counted, its replacement already starting. */
    KILLED;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Booting or serving: it holds its slot, so no other worker is started for it. */
    boolean holdsSlot() {
        return this == BOOTING || this == SERVING;
    }
}
