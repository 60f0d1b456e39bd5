package dev.drover.agent;

import java.util.concurrent.CountDownLatch;

/**
 * The accept gate: the servers' acceptor threads wait here before their first accept(), so that a worker takes no
 * connection from the shared socket before its link side says so (after READY) or it drains.
 */
final class AcceptGate {
    private final CountDownLatch open = new CountDownLatch(1);

    void open() {
        open.countDown();
    }

    boolean isOpen() {
        return open.getCount() == 0;
    }

    /**
     * Blocks the calling acceptor until the gate opens. An interrupt (the server stopping its acceptors) lets it go
     * at once, with the interrupt flag set again, so that the server's own loop sees it and ends.
     */
    void await() {
        try {
            open.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
