package dev.drover.supervisor.config;

import java.time.Duration;

/** The planned-recycle settings: request and age limits with their jitter, and how many replacements boot at once. */
public record RecycleLimits(long maxRequests, long maxRequestsJitter, Duration maxLifetime, Duration maxLifetimeJitter,
                            int maxSurge) {

    public static final RecycleLimits OFF = new RecycleLimits(0, 0, Duration.ZERO, Duration.ZERO, 1);
}
