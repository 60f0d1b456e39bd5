package dev.drover.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class RequestCounterTest {
    private final AtomicLong now = new AtomicLong();
    private final RequestCounter counter = new RequestCounter(now::get);

    @Test
    @Timeout(5)
    void countsBegunAndInFlightRequestsAndEndsEachOnce() {
        Runnable first = counter.begin();
        Runnable second = counter.begin();
        assertEquals(2, counter.requests());
        assertEquals(2, counter.inflight());
        first.run();
        first.run(); // a second path to the same end (callback and exception) must not end another request
        assertEquals(1, counter.inflight());
        second.run();
        assertEquals(0, counter.inflight());
        assertEquals(2, counter.requests());
    }

    @Test
    @Timeout(5)
    void theListenerIsToldEachCountedRequestsDurationAndStatusOnce() {
        List<String> told = new ArrayList<>();
        counter.timeRequests((nanos, status) -> told.add(nanos + "ns " + status));
        RequestCounter.InFlight answered = counter.begin();
        RequestCounter.InFlight unknown = counter.begin();
        now.addAndGet(1500);
        answered.end(404);
        answered.end(200); // a later path to the same end changes nothing
        unknown.run();
        counter.warmingUp(true);
        counter.begin().end(200);
        assertEquals(List.of("1500ns 404", "1500ns 0"), told, "warm-up requests are not timed");
    }

    @Test
    @Timeout(5)
    void warmUpRequestsAreInFlightButNeverCountedNorNotified() {
        List<String> notified = new ArrayList<>();
        counter.notifyAt(1, () -> notified.add("at 1"));
        counter.warmingUp(true);
        Runnable warmUp = counter.begin();
        counter.begin().run();
        assertEquals(0, counter.requests());
        assertEquals(2, counter.warmUps());
        assertEquals(1, counter.inflight(), "a warm-up request is in flight until it ends, like any other");
        counter.warmingUp(false);
        assertEquals(List.of(), notified);
        counter.begin();
        assertEquals(1, counter.requests());
        assertEquals(List.of("at 1"), notified);
        warmUp.run();
        assertEquals(1, counter.inflight());
    }

    @Test
    @Timeout(5)
    void oldestInFlightIsTheAgeOfTheEarliestUnfinishedRequest() {
        assertEquals(0, counter.oldestInflightMillis());
        Runnable early = counter.begin();
        now.addAndGet(300_000_000L);
        Runnable late = counter.begin();
        now.addAndGet(200_000_000L);
        assertEquals(500, counter.oldestInflightMillis());
        early.run();
        assertEquals(200, counter.oldestInflightMillis());
        late.run();
        assertEquals(0, counter.oldestInflightMillis());
    }

    @Test
    @Timeout(5)
    void notifyRunsOnceOnTheRequestThatReachesTheCount() {
        List<Long> seen = new ArrayList<>();
        counter.notifyAt(3, () -> seen.add(counter.requests()));
        counter.begin();
        counter.begin();
        assertEquals(List.of(), seen);
        counter.begin();
        counter.begin();
        assertEquals(List.of(3L), seen);
    }

    @Test
    @Timeout(5)
    void notifyForACountAlreadyReachedRunsAtOnce() {
        counter.begin();
        counter.begin();
        AtomicInteger runs = new AtomicInteger();
        counter.notifyAt(1, runs::incrementAndGet);
        assertEquals(1, runs.get());
        counter.begin();
        assertEquals(1, runs.get());
    }

    @Test
    @Timeout(5)
    void aFailingActionDoesNotFailTheRequest() {
        counter.notifyAt(1, () -> {
            throw new IllegalStateException("the link is gone");
        });
        counter.begin();
        assertEquals(1, counter.inflight());
    }

    @Test
    @Timeout(20)
    void notifyRacingWithRequestsRunsExactlyOnce() throws Exception {
        for (int round = 0; round < 200; round++) {
            RequestCounter racing = new RequestCounter(System::nanoTime);
            AtomicInteger runs = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            Thread requests = new Thread(() -> {
                await(go);
                for (int i = 0; i < 50; i++) {
                    racing.begin().run();
                }
            });
            requests.start();
            go.countDown();
            racing.notifyAt(25, runs::incrementAndGet);
            requests.join();
            assertEquals(1, runs.get(), "round " + round);
        }
    }

    @Test
    @Timeout(5)
    void awaitIdleReturnsWhenTheLastRequestEndsOrAtTheDeadline() throws Exception {
        assertTrue(counter.awaitIdle(System.nanoTime()));
        Runnable request = counter.begin();
        assertFalse(counter.awaitIdle(System.nanoTime() + 50_000_000L));
        Thread waiter = Thread.currentThread();
        new Thread(() -> {
            // End the request once the test thread is parked in awaitIdle, so the wake-up is what is tested.
            while (waiter.getState() != Thread.State.TIMED_WAITING && waiter.getState() != Thread.State.WAITING) {
                Thread.onSpinWait();
            }
            request.run();
        }).start();
        assertTrue(counter.awaitIdle(System.nanoTime() + 4_000_000_000L));
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
