package dev.drover.examples.tomcat;

import java.util.ArrayList;
import java.util.List;

/**
 * The app's planted leak: every order ever "processed" stays reachable from a static list, 1 KiB each, so a heap
 * histogram names this class as the one that grows.
 */
public final class LeakedOrder {

    private static final List<LeakedOrder> RETAINED = new ArrayList<>();

    private final byte[] payload = new byte[1024];

    private LeakedOrder() {
    }

    /** Retains {@code kb} more orders; returns the KiB now held in all (one order is 1 KiB). */
    static long leak(int kb) {
        synchronized (RETAINED) {
            for (int i = 0; i < kb; i++) {
                RETAINED.add(new LeakedOrder());
            }
            return RETAINED.size();
        }
    }
}
