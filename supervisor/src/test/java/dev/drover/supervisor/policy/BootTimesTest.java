package dev.drover.supervisor.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BootTimesTest {

    @Test
    void theDefaultStandsUntilTheFirstReadyThenTheNinetiethPercentile() {
        BootTimes times = new BootTimes();
        assertEquals(BootTimes.DEFAULT, times.p90());
        times.record(Duration.ofMillis(400));
        assertEquals(Duration.ofMillis(400), times.p90(), "the first READY seeds it");
        for (int ms = 100; ms <= 1000; ms += 100) {
            times.record(Duration.ofMillis(ms));
        }
        assertEquals(Duration.ofMillis(900), times.p90(), "11 boots: rank 10 of 100..1000 and 400");
    }

    @Test
    void onlyTheLatestBootsCount() {
        BootTimes times = new BootTimes();
        for (int i = 0; i < 20; i++) {
            times.record(Duration.ofSeconds(5));
        }
        for (int i = 0; i < 20; i++) {
            times.record(Duration.ofMillis(300));
        }
        assertEquals(Duration.ofMillis(300), times.p90());
    }
}
