package dev.drover.supervisor.policy;

/**
 * Why a worker was replaced. Planned reasons go surge-first (replacement READY, then drain); the others cannot:
 * the worker is killed and the replacement starts at once. The labels are counted in `drover ctl status`.
 */
public enum RecycleReason {
    MAX_REQUESTS("max-requests", true),
    MAX_LIFETIME("max-lifetime", true),
    MEMORY("memory", true),
    /** The growth rate says the hard limit comes before a graceful recycle could finish: replaced at once. */
    MEMORY_PROJECTED("memory-projected", true),
    RELOAD("reload", true),
    MANUAL("manual", true),
    MEMORY_HARD("memory-hard", false),
    HANG("hang", false),
    BOOT_TIMEOUT("boot-timeout", false),
    CRASH("crash", false),
    /** The JVM ended itself on an OutOfMemoryError (-XX:+ExitOnOutOfMemoryError, which Drover sets). */
    OOM("oom", false),
    /** The kernel's OOM killer killed it at memory.max of its own cgroup (cgroup v2 delegated: os/Cgroups). */
    MEMORY_OOM_KILL("memory-oom-kill", false);

    private final String label;
    private final boolean planned;

    RecycleReason(String label, boolean planned) {
        this.label = label;
        this.planned = planned;
    }

    public String label() {
        return label;
    }

    /**
     * A memory emergency: its replacement goes ahead of planned recycles, and may take one surge slot more than
     * max-surge, because waiting for a slot ends in a SIGKILL at the hard limit.
     */
    public boolean emergency() {
        return this == MEMORY_PROJECTED || this == MEMORY_HARD;
    }

    /**
     * Memory made the worker go (a limit, an OutOfMemoryError): not a crash, so no crash backoff, except for a
     * worker that gets there within its boot (RestartPolicy.memoryExit); and a leak report is written for it.
     */
    public boolean memory() {
        return this == MEMORY || this == MEMORY_PROJECTED || this == MEMORY_HARD || this == OOM
                || this == MEMORY_OOM_KILL;
    }

    /** Planned recycles start the replacement first and never reduce the number of accepting workers. */
    public boolean planned() {
        return planned;
    }
}
