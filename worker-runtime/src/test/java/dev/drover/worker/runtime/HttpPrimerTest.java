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
}
