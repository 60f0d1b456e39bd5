package dev.drover.sample;

import java.util.ArrayList;
import java.util.List;

/** The planted memory leak: every /leak request adds to a list that is never cleared. */
public final class LeakyCache {

    private static final List<byte[]> RETAINED = new ArrayList<>();
    private static long retainedBytes;

    private LeakyCache() {
    }

    /** Retains {@code kib} KiB more, touching every page so that the process's RSS grows with it. */
    public static synchronized long retain(int kib) {
        byte[] block = new byte[kib * 1024];
        for (int i = 0; i < block.length; i += 4096) {
            block[i] = 1;
        }
        RETAINED.add(block);
        retainedBytes += block.length;
        return retainedBytes;
    }
}
