package dev.drover.supervisor.policy;

import dev.drover.supervisor.config.MemoryLimits;
import dev.drover.supervisor.config.RecycleLimits;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * Which limit a worker has crossed. Limits are drawn per worker at spawn (base + random jitter), so workers
 * started together do not all recycle together. Pure: readings and time come in as arguments.
 */
public final class RecyclePolicy {

    /** One worker's own limits, drawn when it is spawned; 0 means no limit. */
    public record Limits(long requests, long lifetimeNanos) {
    }

    private final RecycleLimits recycle;
    private final MemoryLimits memory;

    public RecyclePolicy(RecycleLimits recycle, MemoryLimits memory) {
        this.recycle = recycle;
        this.memory = memory;
    }

    public Limits draw(RandomGenerator random) {
        long requests = recycle.maxRequests() == 0 ? 0
                : recycle.maxRequests() + random.nextLong(recycle.maxRequestsJitter() + 1);
        long lifetime = recycle.maxLifetime().isZero() ? 0
                : recycle.maxLifetime().toNanos() + random.nextLong(recycle.maxLifetimeJitter().toNanos() + 1);
        return new Limits(requests, lifetime);
    }

    /** A planned reason to recycle a serving worker, if it has one: requests first, then age. */
    public Optional<RecycleReason> plannedReason(Limits limits, long requests, long ageNanos) {
        if (limits.requests() > 0 && requests >= limits.requests()) {
            return Optional.of(RecycleReason.MAX_REQUESTS);
        }
        if (limits.lifetimeNanos() > 0 && ageNanos >= limits.lifetimeNanos()) {
            return Optional.of(RecycleReason.MAX_LIFETIME);
        }
        return Optional.empty();
    }

    /**
     * Whether the precise reading (PSS or USS, from smaps_rollup at 1-20 ms) is needed: only when the metric is
     * not RSS and RSS, which is never below PSS or USS, is over a limit.
     */
    public boolean needsRollup(long rssBytes) {
        return memory.metric() != MemoryLimits.Metric.RSS && memory.any() && rssBytes >= lowestLimit();
    }

    private long lowestLimit() {
        if (memory.softLimit() == 0) {
            return memory.hardLimit();
        }
        return memory.hardLimit() == 0 ? memory.softLimit() : Math.min(memory.softLimit(), memory.hardLimit());
    }

    public boolean overHardLimit(long bytes) {
        return memory.hardLimit() > 0 && bytes > memory.hardLimit();
    }

    public boolean overSoftLimit(long bytes) {
        return memory.softLimit() > 0 && bytes > memory.softLimit();
    }

    /** Over the soft limit since {@code overSince} (monotonic ns) and still over it at {@code now}: time to recycle. */
    public boolean softGraceExpired(long overSince, long now) {
        return now - overSince >= memory.softGrace().toNanos();
    }

    public MemoryLimits memory() {
        return memory;
    }

    public int maxSurge() {
        return recycle.maxSurge();
    }

    /** How many of a reload's replacements may boot at once once its canary serves; "all" is no limit. */
    public int reloadSurge() {
        return recycle.reloadSurge() == RecycleLimits.RELOAD_SURGE_ALL ? Integer.MAX_VALUE : recycle.reloadSurge();
    }

    /**
     * How many replacements of {@code reason} may boot at once: the canary alone (reload-canary = alone, while it
     * boots), a reload's surge (the canary among them when it boots together with the rest), or max-surge.
     */
    public long surge(RecycleReason reason, boolean canaryPending) {
        if (reason.emergency()) {
            return maxSurge() + 1L;
        }
        if (canaryPending && recycle.canaryAlone()) {
            return 1;
        }
        return reason == RecycleReason.RELOAD ? reloadSurge() : maxSurge();
    }

    public boolean canaryAlone() {
        return recycle.canaryAlone();
    }
}
