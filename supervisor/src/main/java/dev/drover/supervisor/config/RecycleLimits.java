package dev.drover.supervisor.config;

import java.time.Duration;

/**
 * The planned-recycle settings: request and age limits with their jitter, and how replacements boot: how many at
 * once (in recycles, and in a reload once its canary serves) and at what CPU priority.
 * {@code reloadSurge} 0 means all (RELOAD_SURGE_ALL); {@code bootNice} 0 means booting workers are not niced;
 * {@code servingNice}: how much higher than the master's a serving worker's nice is (0: the master's);
 * {@code canaryAlone}: a reload's canary boots by itself, the rest only once it is READY (reload-canary = alone);
 * {@code spareWorkers}: booted workers that wait, not accepting, to take a slot that needs a new worker at once;
 * {@code standbyJvms}: JVMs booted with Drover's runtime and no app, which the next spawns adopt (a reload's new
 * workers among them) instead of starting a JVM.
 */
public record RecycleLimits(long maxRequests, long maxRequestsJitter, Duration maxLifetime, Duration maxLifetimeJitter,
                            int maxSurge, int reloadSurge, int bootNice, int servingNice,
                            boolean canaryAlone, int spareWorkers, int standbyJvms) {

    public RecycleLimits(long maxRequests, long maxRequestsJitter, Duration maxLifetime, Duration maxLifetimeJitter,
                         int maxSurge, int reloadSurge, int bootNice, int servingNice, boolean canaryAlone,
                         int spareWorkers) {
        this(maxRequests, maxRequestsJitter, maxLifetime, maxLifetimeJitter, maxSurge, reloadSurge, bootNice,
                servingNice, canaryAlone, spareWorkers, 0);
    }

    public static final int RELOAD_SURGE_ALL = 0;
    public static final RecycleLimits OFF = new RecycleLimits(0, 0, Duration.ZERO, Duration.ZERO, 1, RELOAD_SURGE_ALL,
            0, 0, false, 0);

    /** How the log and `drover ctl status` show reload-canary. */
    public String reloadCanaryLabel() {
        return canaryAlone ? "alone" : "together";
    }

    /** How the log and `drover ctl status` show the reload surge. */
    public String reloadSurgeLabel() {
        return reloadSurge == RELOAD_SURGE_ALL ? "all" : Integer.toString(reloadSurge);
    }
}
