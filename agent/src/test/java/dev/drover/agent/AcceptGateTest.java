package dev.drover.agent;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class AcceptGateTest {
    private final AcceptGate gate = new AcceptGate();

    @Test
    @Timeout(5)
    void holdsAcceptorsUntilOpened() throws Exception {
        CountDownLatch passed = new CountDownLatch(1);
        Thread acceptor = new Thread(() -> {
            gate.await();
            passed.countDown();
        });
        acceptor.start();
        assertFalse(passed.await(200, TimeUnit.MILLISECONDS), "passed a closed gate");
        assertFalse(gate.isOpen());
        gate.open();
        assertTrue(passed.await(4, TimeUnit.SECONDS));
        assertTrue(gate.isOpen());
        gate.await(); // open for good: later acceptors pass at once
    }

    @Test
    @Timeout(5)
    void anInterruptedAcceptorLeavesWithItsInterruptFlagSet() throws Exception {
        AtomicBoolean interrupted = new AtomicBoolean();
        Thread acceptor = new Thread(() -> {
            gate.await();
            interrupted.set(Thread.currentThread().isInterrupted());
        });
        acceptor.start();
        acceptor.interrupt();
        acceptor.join(4_000);
        assertTrue(interrupted.get(), "the server's loop must see the interrupt that stops its acceptor");
        assertFalse(gate.isOpen());
    }
}
