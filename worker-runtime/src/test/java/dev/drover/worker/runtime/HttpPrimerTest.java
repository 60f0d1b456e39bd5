package dev.drover.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The boot's primer runs a request through the worker's pipeline without the app: the last-resort 404 answers. */
@Timeout(30)
class HttpPrimerTest {

    @Test
    void aPrimedRequestGoesThroughTheCodecToTheLastResortHandler() {
        assertEquals(404, HttpPrimer.prime(HttpLimits.DEFAULTS));
    }

    @Test
    void aStandbyPrimesItsCountAndStopsOnceAdopted() {
        assertEquals(4 * HttpPrimer.PER_CHANNEL, HttpPrimer.primeRepeatedly(HttpLimits.DEFAULTS,
                4 * HttpPrimer.PER_CHANNEL, 20_000, () -> false));
        int[] checks = {0};
        int ran = HttpPrimer.primeRepeatedly(HttpLimits.DEFAULTS, 100 * HttpPrimer.PER_CHANNEL, 20_000,
                () -> ++checks[0] > 2);
        assertEquals(2 * HttpPrimer.PER_CHANNEL, ran, "adopted after two channels: no more");
    }
}
