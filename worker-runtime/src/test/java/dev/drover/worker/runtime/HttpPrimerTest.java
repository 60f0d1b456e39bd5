package dev.drover.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    @Test
    void aStandbyAnswersOverLoopbackThenClosesItsListener() throws Exception {
        io.netty.channel.EventLoopGroup loops = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
                io.netty.channel.epoll.EpollIoHandler.newFactory());
        try {
            java.util.concurrent.atomic.AtomicReference<java.net.InetSocketAddress> listened =
                    new java.util.concurrent.atomic.AtomicReference<>();
            assertEquals(3 * HttpPrimer.PER_CHANNEL + 7, HttpPrimer.primeOverLoopback(loops, HttpLimits.DEFAULTS,
                    3 * HttpPrimer.PER_CHANNEL + 7, 20_000, () -> false, listened::set), "every request answered");
            assertTrue(listened.get().getAddress().isLoopbackAddress());
            assertThrows(java.net.ConnectException.class, () -> new java.net.Socket(listened.get().getAddress(),
                    listened.get().getPort()).close(), "the private listener is closed once priming ends");

            int[] checks = {0};
            assertEquals(HttpPrimer.PER_CHANNEL, HttpPrimer.primeOverLoopback(loops, HttpLimits.DEFAULTS,
                    100 * HttpPrimer.PER_CHANNEL, 20_000, () -> ++checks[0] > 1), "adopted after one connection");
        } finally {
            loops.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }
}
