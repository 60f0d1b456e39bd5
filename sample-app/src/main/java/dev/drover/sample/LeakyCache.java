package dev.drover.sample;

import java.util.ArrayList;
import java.util.List;

/**
 * The planted memory leak: every /leak request adds blocks to a list that is never cleared. The blocks are a
 * named class, so a class histogram of a leaking worker shows {@code dev.drover.sample.LeakyCache$LeakedBlock}.
 */
public final class LeakyCache {

    /** One 64 KiB piece of leaked memory. */
    static final class LeakedBlock {
        static final int SIZE = 64 * 1024;
        final byte[] payload = new byte[SIZE];

        LeakedBlock() {
            // Touch every page, so the process's RSS grows with the leak and not only its heap reservation.
            for (int i = 0; i < payload.length; i += 4096) {
                payload[i] = 1;
            }
        }
    }

    private static final List<LeakedBlock> RETAINED = new ArrayList<>();

    private LeakyCache() {
    }

    /** Retains about {@code kib} KiB more (whole 64 KiB blocks, at least one); returns the total retained in bytes. */
    public static synchronized long retain(int kib) {
        int blocks = Math.max(1, kib * 1024 / LeakedBlock.SIZE);
        for (int i = 0; i < blocks; i++) {
            RETAINED.add(new LeakedBlock());
        }
        return (long) RETAINED.size() * LeakedBlock.SIZE;
    }
}
