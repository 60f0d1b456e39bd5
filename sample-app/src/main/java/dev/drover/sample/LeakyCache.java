package dev.drover.sample;

import java.util.ArrayList;
import java.util.List;

/**
 * The planted memory leak: every /leak request adds blocks to a list that is never cleared. The blocks are a
 * named class, so a class histogram of a leaking worker shows {@code dev.drover.sample.LeakyCache$LeakedBlock}.
 */
public final class LeakyCache {

    /** One piece of leaked memory, at most 64 KiB. */
    static final class LeakedBlock {
        static final int MAX_SIZE = 64 * 1024;
        final byte[] payload;

        LeakedBlock(int size) {
            payload = new byte[size];
            // Touch every page, so the process's RSS grows with the leak and not only its heap reservation.
            for (int i = 0; i < payload.length; i += 4096) {
                payload[i] = 1;
            }
        }
    }

    private static final List<LeakedBlock> RETAINED = new ArrayList<>();
    private static long retainedBytes;

    private LeakyCache() {
    }

    /**
     * Retains exactly {@code kib} KiB more, as blocks of 64 KiB and a smaller last one, so that a benchmark sets the
     * leak rate by the amount per request, not only by the request rate; returns the total retained in bytes.
     */
    public static synchronized long retain(int kib) {
        long left = (long) kib * 1024;
        while (left > 0) {
            int size = (int) Math.min(left, LeakedBlock.MAX_SIZE);
            RETAINED.add(new LeakedBlock(size));
            left -= size;
        }
        retainedBytes += (long) kib * 1024;
        return retainedBytes;
    }
}
