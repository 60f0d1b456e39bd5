package dev.drover.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drover.worker.api.DroverApp;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The warm-up drives the real HTTP codec and the app's handler in-process; these apps are fakes of a handler. */
@Timeout(30)
class WarmupTest {

    /** Answers 200 on "/", 404 elsewhere; optionally closes the connection after each answer. */
    private static DroverApp app(AtomicInteger seen, boolean close) {
        return () -> new SimpleChannelInboundHandler<FullHttpRequest>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
                seen.incrementAndGet();
                HttpResponseStatus status = request.uri().equals("/") ? HttpResponseStatus.OK : HttpResponseStatus.NOT_FOUND;
                FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                        Unpooled.copiedBuffer("hi\n", StandardCharsets.US_ASCII));
                response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 3);
                if (close) {
                    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                } else {
                    ctx.writeAndFlush(response);
                }
            }
        };
    }

    @Test
    void runsEveryRequestInTurnAndCountsAnswers() {
        AtomicInteger seen = new AtomicInteger();
        Warmup.Result result = new Warmup(app(seen, false), new Warmup.Plan(200, List.of("GET /", "GET /missing"), 10_000)).run();
        assertEquals(200, result.sent());
        assertEquals(200, seen.get(), "each request reached the app's handler");
        assertEquals(100, result.answered2xx());
        assertEquals(100, result.answeredOther());
        assertTrue(result.describe().contains("100 answered otherwise (check drover.warmup.paths)"), result.describe());
    }

    @Test
    void aHandlerThatClosesTheConnectionGetsANewOne() {
        AtomicInteger seen = new AtomicInteger();
        Warmup.Result result = new Warmup(app(seen, true), new Warmup.Plan(50, List.of("GET /"), 10_000)).run();
        assertEquals(50, result.answered2xx(), result.describe());
        assertEquals(50, seen.get());
    }

    @Test
    void aHandlerThatNeverAnswersStopsTheWarmupEarly() {
        DroverApp silent = () -> new SimpleChannelInboundHandler<FullHttpRequest>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            }
        };
        Warmup.Result result = new Warmup(silent, new Warmup.Plan(1000, List.of("GET /"), 10_000)).run();
        assertEquals(1, result.sent());
        assertEquals(0, result.answered2xx());
        assertTrue(result.describe().contains("stopped early: no answer within 1000 ms to GET /"), result.describe());
    }

    @Test
    void theTimeLimitEndsTheWarmup() {
        AtomicInteger seen = new AtomicInteger();
        Warmup.Result result = new Warmup(app(seen, false), new Warmup.Plan(Integer.MAX_VALUE, List.of("GET /"), 200)).run();
        assertTrue(result.sent() < Integer.MAX_VALUE);
        assertTrue(result.describe().contains("stopped early: drover.warmup.time-limit (200 ms) reached"), result.describe());
    }

    @Test
    void statusOfReadsTheStatusLine() {
        assertEquals(204, Warmup.statusOf(Unpooled.copiedBuffer("HTTP/1.1 204 No Content\r\n", StandardCharsets.US_ASCII)));
        assertEquals(0, Warmup.statusOf(Unpooled.copiedBuffer("hello world, not http", StandardCharsets.US_ASCII)));
    }

}
