package dev.drover.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A drain's idle callback: it ends the worker, so it must run once, however many connections close at once. */
class ConnectionTrackerTest {

    /** A connection with the tracker in its pipeline, and an id of its own (embedded channels share one). */
    private static EmbeddedChannel connection(ConnectionTracker tracker) {
        return new EmbeddedChannel(DefaultChannelId.newInstance(), tracker.newHandler());
    }

    @Test
    @Timeout(10)
    void withNothingOpenTheDrainIsIdleAtOnce() {
        AtomicInteger idle = new AtomicInteger();
        new ConnectionTracker().drain(idle::incrementAndGet);
        assertEquals(1, idle.get());
    }

    @Test
    @Timeout(10)
    void idleOnlyWhenTheLastConnectionCloses() {
        ConnectionTracker tracker = new ConnectionTracker();
        EmbeddedChannel first = connection(tracker);
        EmbeddedChannel second = connection(tracker);
        AtomicInteger idle = new AtomicInteger();
        tracker.drain(idle::incrementAndGet);
        first.close();
        assertEquals(0, idle.get(), "one connection still open");
        second.close();
        assertEquals(1, idle.get());
    }

    @Test
    @Timeout(60)
    void connectionsClosingTogetherOnSeveralThreadsCallItOnce() throws Exception {
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int round = 0; round < 500; round++) {
                ConnectionTracker tracker = new ConnectionTracker();
                List<EmbeddedChannel> channels = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    channels.add(connection(tracker));
                }
                AtomicInteger idle = new AtomicInteger();
                tracker.drain(idle::incrementAndGet);
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Future<?>> closes = new ArrayList<>();
                for (EmbeddedChannel channel : channels) {
                    closes.add(pool.submit(() -> {
                        start.await(); // as event loops do: each closes its own connection, at the same moment
                        return channel.close();
                    }));
                }
                for (Future<?> close : closes) {
                    close.get(5, TimeUnit.SECONDS);
                }
                assertEquals(1, idle.get(), "round " + round + ": the idle callback ran " + idle.get() + " times");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    @Timeout(10)
    void aConnectionAcceptedButNotYetActiveKeepsTheWorkerFromIdling() throws Exception {
        ConnectionTracker tracker = new ConnectionTracker();
        EmbeddedChannel listener = new EmbeddedChannel(tracker.acceptHandler());
        // As the acceptor sees it: accepted, not yet registered with its event loop (so not yet channelActive).
        EmbeddedChannel child = new EmbeddedChannel(DefaultChannelId.newInstance(), false, false);
        listener.writeInbound(child);
        AtomicInteger idle = new AtomicInteger();
        tracker.drain(idle::incrementAndGet);
        assertEquals(0, idle.get(), "a drain in that moment must wait for the accepted connection");
        child.pipeline().addLast(tracker.newHandler());
        child.register();
        child.close();
        assertEquals(1, idle.get());
    }

    @Test
    @Timeout(10)
    void theRequestsInFlightAreNamedWithoutTheirQueryAndForgottenOnceAnswered() {
        ConnectionTracker tracker = new ConnectionTracker();
        EmbeddedChannel ch = connection(tracker);
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/leak?kb=64&token=s3cret"));
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/orders#frag"));
        List<InFlightRequest> inflight = tracker.inflightRequests();
        assertEquals(List.of("GET /leak", "POST /orders"), inflight.stream().map(r -> r.method() + " " + r.path())
                .toList(), "oldest first, no query string, no fragment");
        assertTrue(inflight.get(0).ageMs() >= 0);
        ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        assertEquals(List.of("POST /orders"), tracker.inflightRequests().stream()
                .map(r -> r.method() + " " + r.path()).toList());
        assertEquals(1, tracker.inflight());
        ch.close();
        assertEquals(List.of(), tracker.inflightRequests(), "abandoned by the client: no longer in flight");
        assertEquals(0, tracker.inflight());
    }

    /** A connection with the real HTTP pipeline, answering every request at once; its clock moves only when told. */
    private static EmbeddedChannel httpConnection(ConnectionTracker tracker) {
        // Handlers in the constructor: the tracker must see the connection become active.
        EmbeddedChannel ch = new EmbeddedChannel(DefaultChannelId.newInstance(), new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel c) {
                HttpService.addHttp(c.pipeline(), HttpLimits.DEFAULTS, tracker.newHandler(),
                        new SimpleChannelInboundHandler<FullHttpRequest>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
                                DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                        HttpResponseStatus.OK);
                                response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
                                ctx.writeAndFlush(response);
                            }
                        });
            }
        });
        ch.freezeTime();
        return ch;
    }

    private static void write(EmbeddedChannel ch, String text) {
        ch.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII));
    }

    private static String written(EmbeddedChannel ch) {
        StringBuilder out = new StringBuilder();
        for (ByteBuf b = ch.readOutbound(); b != null; b = ch.readOutbound()) {
            out.append(b.toString(StandardCharsets.US_ASCII));
            b.release();
        }
        return out.toString();
    }

    @Test
    @Timeout(10)
    void atTheCeilingAnIdleConnectionClosesAfterTheShortGraceAndOneHoldingPartOfARequestIsAnsweredFirst() {
        ConnectionTracker tracker = new ConnectionTracker();
        EmbeddedChannel idle = httpConnection(tracker);
        EmbeddedChannel arriving = httpConnection(tracker);
        write(arriving, "GET /leak HTTP/1.1\r\nHost: a\r\n"); // the head's end is still on its way
        AtomicInteger done = new AtomicInteger();
        tracker.drain(ConnectionTracker.CEILING_CLOSE_GRACE_MS, done::incrementAndGet);
        for (EmbeddedChannel ch : List.of(idle, arriving)) {
            ch.advanceTimeBy(ConnectionTracker.CEILING_CLOSE_GRACE_MS, TimeUnit.MILLISECONDS);
            ch.runScheduledPendingTasks();
        }
        assertFalse(idle.isOpen(), "nothing in flight: closed after the grace");
        assertTrue(arriving.isOpen(), "part of a request read: kept until it is answered");
        write(arriving, "\r\n");
        String answer = written(arriving);
        assertTrue(answer.startsWith("HTTP/1.1 200 OK") && answer.toLowerCase(java.util.Locale.ROOT)
                .contains("connection: close"), answer);
        assertFalse(arriving.isOpen(), "closed after its one answer");
        assertEquals(1, done.get());
    }
}
