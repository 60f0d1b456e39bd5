package dev.drover.worker.runtime;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Not a test: the CPU cost of the worker's connection pipeline per small GET, in-process (no sockets), for the
 * pipeline before the HTTP checks (Netty's HttpServerCodec) or the current one; one per JVM, so that neither
 * shapes the other's JIT profile. Run each a few times, alternating, and compare the minima:
 * {@code mvn -pl worker-api test -Dtest=PipelineCostBench -DargLine=-Dpipeline=before} (or {@code =current}).
 */
@EnabledIfSystemProperty(named = "pipeline", matches = "before|current")
class PipelineCostBench {

    private static final byte[] REQUEST = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: bench\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    private static SimpleChannelInboundHandler<FullHttpRequest> app() {
        return new SimpleChannelInboundHandler<>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest r) {
                FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        Unpooled.copiedBuffer("hello from worker 1 (pid 1, gen 1)\n", StandardCharsets.UTF_8));
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
                response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
                ctx.writeAndFlush(response);
            }
        };
    }

    private static EmbeddedChannel pipeline(String which) {
        if (which.equals("before")) {
            return new EmbeddedChannel(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                    new ConnectionTracker().newHandler(), app(), new LastResortHandler());
        }
        EmbeddedChannel ch = new EmbeddedChannel();
        HttpService.addHttp(ch.pipeline(), HttpLimits.DEFAULTS, new ConnectionTracker().newHandler(), app(),
                new LastResortHandler());
        return ch;
    }

    private static double nanosPerRequest(EmbeddedChannel ch, int n) {
        long started = System.nanoTime();
        for (int i = 0; i < n; i++) {
            ch.writeInbound(ch.alloc().directBuffer(REQUEST.length).writeBytes(REQUEST));
            for (Object o = ch.readOutbound(); o != null; o = ch.readOutbound()) {
                ((ByteBuf) o).release();
            }
        }
        return (System.nanoTime() - started) / (double) n;
    }

    @Test
    void measure() {
        String which = System.getProperty("pipeline");
        EmbeddedChannel ch = pipeline(which);
        for (int i = 0; i < 20; i++) {
            nanosPerRequest(ch, 100_000);
        }
        List<Double> runs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            runs.add(nanosPerRequest(ch, 100_000));
        }
        Collections.sort(runs);
        System.out.printf("pipeline %s: %.1f ns/request (min of 40 runs of 100000), median %.1f%n", which,
                runs.get(0), runs.get(20));
    }
}
