package dev.drover.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ConfigPrimerTest {

    @Test
    void theDocumentReadsAsAConfigFileWould() {
        assertEquals("primer says hello", ConfigPrimer.readOnce());
    }

    @Test
    void readsAsOftenAsAskedUnlessStopped() {
        assertEquals(25, ConfigPrimer.primeRepeatedly(25, 60_000, () -> false));
        AtomicInteger asked = new AtomicInteger();
        assertEquals(3, ConfigPrimer.primeRepeatedly(25, 60_000, () -> asked.incrementAndGet() > 3),
                "stops once adopted");
        assertEquals(0, ConfigPrimer.primeRepeatedly(25, 0, () -> false), "no time left: not one read");
    }
}
