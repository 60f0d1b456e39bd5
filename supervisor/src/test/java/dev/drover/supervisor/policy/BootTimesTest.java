package dev.drover.supervisor.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BootTimesTest {

    @Test
    void theDefaultStandsUntilTheFirstReadyThenTheNinetiethPercentileOfBootsBesideServingWorkers() {
        BootTimes times = new BootTimes();
        assertEquals(BootTimes.DEFAULT, times.p90());
        times.record(Duration.ofMillis(400), true);
        assertEquals(Duration.ofMillis(400), times.p90(), "the first READY seeds it");
        for (int ms = 100; ms <= 1000; ms += 100) {
            times.record(Duration.ofMillis(ms), true);
        }
        assertEquals(Duration.ofMillis(900), times.p90(), "11 boots: rank 10 of 100..1000 and 400");
    }

    @Test
    void bootsAtStartCountOnlyScaledUpAndOnlyUntilABootBesideServingWorkers() {
        BootTimes times = new BootTimes();
        times.record(Duration.ofMillis(300), false);
        assertEquals(BootTimes.DEFAULT, times.p90(), "3 x 300 ms is below the default");
        times.record(Duration.ofMillis(1000), false);
        assertEquals(Duration.ofMillis(1000L * BootTimes.IDLE_TO_BUSY), times.p90(),
                "a boot at start had the machine to itself: a replacement beside busy workers takes longer");
        times.record(Duration.ofMillis(1500), true);
        assertEquals(Duration.ofMillis(1500), times.p90(), "measured beside serving workers: what a replacement takes");
    }

    @Test
    void onlyTheLatestBootsCount() {
        BootTimes times = new BootTimes();
        for (int i = 0; i < 20; i++) {
            times.record(Duration.ofSeconds(5), true);
        }
        for (int i = 0; i < 20; i++) {
            times.record(Duration.ofMillis(300), true);
        }
        assertEquals(Duration.ofMillis(300), times.p90());
    }
}
