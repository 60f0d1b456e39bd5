package dev.drover.supervisor.leaks;

import java.util.ArrayList;
import java.util.List;

/**
 * One worker's memory readings over its life, from its STATS (one a second) and the master's RSS readings: kept
 * every {@code everyMs} at first, and when the series is full every other sample is dropped and the period doubles,
 * so a worker of any age is covered end to end in at most {@link #MAX} samples. The latest reading is always kept.
 */
public final class MemorySeries {

    /** One reading: age in ms since the spawn, requests served, and bytes (classes and threads are counts). */
    public record Sample(long ageMs, long requests, long rss, long heapLive, long metaspace, long classes,
                         long direct, long threads) {
    }

    static final int MAX = 720;
    /** Every STATS (1 s) at first: 12 minutes in 720 samples before the first thinning; a day in about 128 s steps. */
    public static final long DEFAULT_PERIOD_MS = 1000;

    private final List<Sample> samples = new ArrayList<>();
    private long everyMs;
    private Sample latest;

    public MemorySeries(long everyMs) {
        this.everyMs = everyMs;
    }

    public void offer(Sample sample) {
        latest = sample;
        if (!samples.isEmpty() && sample.ageMs() - samples.get(samples.size() - 1).ageMs() < everyMs) {
            return;
        }
        samples.add(sample);
        if (samples.size() >= MAX) {
            List<Sample> kept = new ArrayList<>(MAX / 2 + 1);
            for (int i = 0; i < samples.size(); i += 2) {
                kept.add(samples.get(i));
            }
            samples.clear();
            samples.addAll(kept);
            everyMs *= 2;
        }
    }

    /** The kept samples and the latest reading, oldest first. */
    public List<Sample> samples() {
        List<Sample> all = new ArrayList<>(samples);
        if (latest != null && (all.isEmpty() || all.get(all.size() - 1) != latest)) {
            all.add(latest);
        }
        return all;
    }
}
