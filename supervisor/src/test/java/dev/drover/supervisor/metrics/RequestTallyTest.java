package dev.drover.supervisor.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.drover.link.RequestTimes;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RequestTallyTest {

    private static RequestTimes.Counts counts(long each) {
        long[] buckets = new long[RequestTimes.BOUNDS_SECONDS.length + 1];
        Arrays.fill(buckets, each);
        return new RequestTimes.Counts(buckets, each * 100, new long[] {0, each, 0, 0, 0});
    }

    @Test
    void aSlotsCountsKeepGrowingAcrossItsWorkers() {
        RequestTally tally = new RequestTally();
        tally.record(1, 100, counts(5));
        tally.record(2, 200, counts(1));
        assertEquals(5 * 14, tally.bySlot().get(1).count());
        // slot 1 is recycled: the replacement (pid 101) boots and serves while the old one drains
        tally.record(1, 101, counts(1));
        tally.record(1, 100, counts(6));
        assertEquals((6 + 1) * 14, tally.bySlot().get(1).count());
        tally.retire(100);
        assertEquals((6 + 1) * 14, tally.bySlot().get(1).count(), "the old worker's last counts stay");
        tally.record(1, 101, counts(3));
        assertEquals((6 + 3) * 14, tally.bySlot().get(1).count());
        assertEquals(900, tally.bySlot().get(1).sumMicros());
        assertEquals(9, tally.bySlot().get(1).statusClasses()[1]);
        assertEquals(14, tally.bySlot().get(2).count(), "other slots are their own");
    }

    @Test
    void aWorkerThatNeverReportedLeavesNothing() {
        RequestTally tally = new RequestTally();
        tally.record(1, 100, null);
        tally.retire(100);
        assertEquals(0, tally.bySlot().size());
    }
}
