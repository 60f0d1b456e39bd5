package dev.drover.link;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class RequestTimesTest {

    @Test
    void countsTravelInAStatsLineAndComeBackTheSame() {
        RequestTimes times = new RequestTimes();
        times.record(1_000_000, 200);      // exactly 1 ms: the first bucket (le 0.001)
        times.record(1_000_001, 404);      // just above: the second
        times.record(60_000_000_000L, 503); // above the last bound: +Inf
        times.record(500_000, 0);           // status unknown (a foreign worker): no class
        LinkMessage.Builder stats = LinkMessage.of(LinkMessage.Type.STATS).put("requests", 4);
        times.addTo(stats);
        LinkMessage decoded = LinkMessage.decode(stats.build().encode());
        RequestTimes.Counts counts = RequestTimes.read(decoded);
        long[] buckets = new long[RequestTimes.BOUNDS_SECONDS.length + 1];
        buckets[0] = 2;
        buckets[1] = 1;
        buckets[buckets.length - 1] = 1;
        assertArrayEquals(buckets, counts.buckets());
        assertArrayEquals(new long[] {0, 1, 0, 1, 1}, counts.statusClasses());
        assertEquals(1000 + 1000 + 60_000_000 + 500, counts.sumMicros());
        assertEquals(4, counts.count());
    }

    @Test
    void aStatsLineWithoutThemHasNone() {
        assertNull(RequestTimes.read(LinkMessage.of(LinkMessage.Type.STATS).put("requests", 1).build()));
    }

    @Test
    void aWrongNumberOfBucketsIsAProtocolError() {
        LinkMessage bad = LinkMessage.decode("STATS req_buckets=1/2 req_sum_us=3 req_status=0/0/0/0/0");
        assertThrows(LinkProtocolException.class, () -> RequestTimes.read(bad));
    }

    @Test
    void countsAddUp() {
        RequestTimes.Counts one = new RequestTimes.Counts(fill(1), 10, new long[] {0, 1, 0, 0, 0});
        RequestTimes.Counts sum = one.plus(one);
        assertArrayEquals(fill(2), sum.buckets());
        assertEquals(20, sum.sumMicros());
        assertArrayEquals(new long[] {0, 2, 0, 0, 0}, sum.statusClasses());
    }

    private static long[] fill(long value) {
        long[] counts = new long[RequestTimes.BOUNDS_SECONDS.length + 1];
        java.util.Arrays.fill(counts, value);
        return counts;
    }
}
