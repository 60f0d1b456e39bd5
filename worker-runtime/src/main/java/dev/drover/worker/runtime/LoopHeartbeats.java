package dev.drover.worker.runtime;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Each event loop checks in every {@link #BEAT_MS}; the stall is how long the slowest loop has not. A loop blocked
 * by application code stops checking in while the rest of the JVM (and the control link's thread) goes on.
 */
final class LoopHeartbeats {

    static final long BEAT_MS = 200;

    private final List<AtomicLong> lastBeat = new ArrayList<>();

    LoopHeartbeats(EventLoopGroup loops) {
        for (EventExecutor loop : loops) {
            AtomicLong beat = new AtomicLong(System.nanoTime());
            lastBeat.add(beat);
            loop.scheduleAtFixedRate(() -> beat.set(System.nanoTime()), BEAT_MS, BEAT_MS, TimeUnit.MILLISECONDS);
        }
    }

    /** Milliseconds since the slowest event loop last checked in. */
    long stallMillis() {
        long now = System.nanoTime();
        long oldest = lastBeat.stream().mapToLong(AtomicLong::get).min().orElse(now);
        return TimeUnit.NANOSECONDS.toMillis(now - oldest);
    }
}
