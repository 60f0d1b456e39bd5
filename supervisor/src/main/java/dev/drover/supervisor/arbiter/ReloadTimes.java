package dev.drover.supervisor.arbiter;

import java.util.concurrent.TimeUnit;

/**
 * Where one reload's time went, from its start to its `complete` line: the canary's boot, the roll-out of the
 * other new workers, and the drain of the last old one. Monotonic ns, as the arbiter's clock gives them.
 */
final class ReloadTimes {

    private final long startedAt;
    private final long configReadAt;
    private final int newWorkers;
    private final String surge;
    private long canarySpawnedAt = -1;
    private long canaryReadyAt = -1;

    /** {@code startedAt}: the reload began (the config is read next); {@code configReadAt}: read, checked, bound. */
    ReloadTimes(long startedAt, long configReadAt, int newWorkers, String surge) {
        this.startedAt = startedAt;
        this.configReadAt = configReadAt;
        this.newWorkers = newWorkers;
        this.surge = surge;
    }

    void canaryReady(long spawnedAt, long readyAt) {
        canarySpawnedAt = spawnedAt;
        canaryReadyAt = readyAt;
    }

    /**
     * "in 2,310 ms: config read and checked 41 ms, spawn 2 ms, canary spawn->READY 812 ms, roll-out 1,120 ms
     * (2 workers, reload-surge all), last old worker drained 378 ms"; {@code lastReady}: the last new worker's READY,
     * {@code now}: the reload is complete.
     */
    String breakdown(long lastReady, long now) {
        StringBuilder b = new StringBuilder("in ").append(ms(now - startedAt));
        if (canaryReadyAt != -1) {
            b.append(": config read and checked ").append(ms(configReadAt - startedAt))
                    .append(", spawn ").append(ms(canarySpawnedAt - configReadAt))
                    .append(", canary spawn->READY ").append(ms(canaryReadyAt - canarySpawnedAt));
            long rollout = Math.max(0, lastReady - canaryReadyAt);
            b.append(", roll-out ").append(ms(rollout)).append(" (").append(Math.max(0, newWorkers - 1))
                    .append(" more worker(s), reload-surge ").append(surge).append(")");
            b.append(", last old worker drained ").append(ms(now - Math.max(lastReady, canaryReadyAt)));
        }
        return b.toString();
    }

    private static String ms(long nanos) {
        return String.format(java.util.Locale.ROOT, "%,d ms", TimeUnit.NANOSECONDS.toMillis(nanos));
    }
}
