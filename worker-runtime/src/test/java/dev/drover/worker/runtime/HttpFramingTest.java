package dev.drover.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The worker's real connection pipeline (codec, guard, aggregator, tracker, a fake app, the last resort) on an
 * EmbeddedChannel: RFC 9112 framing, the size limits and the read deadlines, with time moved by hand.
 */
@Timeout(30)
class HttpFramingTest {

    private static final HttpLimits LIMITS = new HttpLimits(1024, 4096, 20, 1000, 1000, 2000, 5000, 100);
    private static final Pattern STATUS = Pattern.compile("HTTP/1\\.1 (\\d{3}) ");

    /** What the fake app saw: "METHOD URI BODY" per request. */
    private final List<String> seen = new ArrayList<>();
    /** Requests to /later are answered only when the test says so. */
    private final List<ChannelHandlerContext> later = new ArrayList<>();
    private final EmbeddedChannel channel = newChannel();

    private EmbeddedChannel newChannel() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime();
        HttpService.addHttp(ch.pipeline(), LIMITS, new ConnectionTracker().newHandler(),
                new SimpleChannelInboundHandler<FullHttpRequest>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
                        seen.add(request.method() + " " + request.uri() + " "
                                + request.content().toString(StandardCharsets.UTF_8));
                        if (request.uri().equals("/later")) {
                            later.add(ctx);
                        } else {
                            answer(ctx, "seen " + request.uri() + "\n");
                        }
                    }
                }, new LastResortHandler());
        return ch;
    }

    private static void answer(ChannelHandlerContext ctx, String body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        ctx.writeAndFlush(response);
    }

    private String send(String wire) {
        channel.writeInbound(Unpooled.copiedBuffer(wire, StandardCharsets.ISO_8859_1));
        channel.runPendingTasks();
        return received();
    }

    private String received() {
        StringBuilder out = new StringBuilder();
        for (Object o = channel.readOutbound(); o != null; o = channel.readOutbound()) {
            ByteBuf buf = (ByteBuf) o;
            out.append(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        return out.toString();
    }

    private static List<Integer> statuses(String wire) {
        List<Integer> codes = new ArrayList<>();
        Matcher m = STATUS.matcher(wire);
        while (m.find()) {
            codes.add(Integer.parseInt(m.group(1)));
        }
        return codes;
    }

    private void assertRefused(int status, String wire) {
        assertEquals(List.of(status), statuses(wire), wire);
        assertTrue(wire.contains("connection: close\r\n"), wire);
        assertFalse(channel.isOpen(), "the connection is closed after the refusal");
        assertEquals(List.of(), seen, "the app never saw the request");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            CL with TE              | 400 | POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 3\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n3\\r\\nabc\\r\\n0\\r\\n\\r\\n
            two lengths             | 400 | POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 3\\r\\nContent-Length: 4\\r\\n\\r\\nabcd
            same length twice       | 400 | POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 3\\r\\nContent-Length: 3\\r\\n\\r\\nabc
            length -1               | 400 | POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: -1\\r\\n\\r\\n
            length not digits       | 400 | POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 1x\\r\\n\\r\\nab
            length overflow         | 400 | POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 99999999999999999999\\r\\n\\r\\n
            chunk size zz           | 400 | POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nzz\\r\\nabc\\r\\n0\\r\\n\\r\\n
            chunk size overflow     | 400 | POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nFFFFFFFFFFFFFFFF\\r\\nabc\\r\\n0\\r\\n\\r\\n
            no colon                | 400 | GET / HTTP/1.1\\r\\nHost: a\\r\\nNoColonHere\\r\\n\\r\\n
            obs-fold                | 400 | GET / HTTP/1.1\\r\\nHost: a\\r\\nX-A: 1\\r\\n  folded\\r\\n\\r\\n
            obs-fold with tab       | 400 | GET / HTTP/1.1\\r\\nHost: a\\r\\nX-A: 1\\r\\n\\tfolded\\r\\n\\r\\n
            space before first line | 400 | GET / HTTP/1.1\\r\\n Host: a\\r\\n\\r\\n
            space in header name    | 400 | GET / HTTP/1.1\\r\\nHost: a\\r\\nBad Name: x\\r\\n\\r\\n
            space before colon      | 400 | GET / HTTP/1.1\\r\\nHost : a\\r\\n\\r\\n
            control char in value   | 400 | GET / HTTP/1.1\\r\\nHost: a\\r\\nX-A: a\\u0000b\\r\\n\\r\\n
            lone LF                 | 400 | GET / HTTP/1.1\\nHost: a\\n\\n
            no Host in 1.1          | 400 | GET / HTTP/1.1\\r\\n\\r\\n
            two Hosts               | 400 | GET / HTTP/1.1\\r\\nHost: a\\r\\nHost: b\\r\\n\\r\\n
            bad Host value          | 400 | GET / HTTP/1.1\\r\\nHost: a b/c\\r\\n\\r\\n
            HTTP/9.9                | 505 | GET / HTTP/9.9\\r\\nHost: a\\r\\n\\r\\n
            HTTP/2.0                | 505 | GET / HTTP/2.0\\r\\nHost: a\\r\\n\\r\\n
            version in lower case   | 400 | GET / http/1.1\\r\\nHost: a\\r\\n\\r\\n
            not HTTP at all         | 400 | GET / FOO/1.1\\r\\nHost: a\\r\\n\\r\\n
            version 1.10            | 400 | GET / HTTP/1.10\\r\\nHost: a\\r\\n\\r\\n
            gzip then chunked       | 501 | POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: gzip, chunked\\r\\n\\r\\n0\\r\\n\\r\\n
            gzip alone              | 400 | POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: gzip\\r\\n\\r\\n
            TE in HTTP/1.0          | 400 | POST / HTTP/1.0\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n
            garbage request line    | 400 | HELLO THERE\\r\\n\\r\\n
            binary garbage          | 400 | \\u0016\\u0003\\u0001\\u0002\\u0000\\u0001\\r\\n\\r\\n
            """)
    void malformedRequestsAreRefusedAndClosed(String name, int status, String wire) {
        assertRefused(status, send(unescape(wire)));
    }

    @Test
    void requestLineTooLongIs414() {
        assertRefused(414, send("GET /" + "a".repeat(2000) + " HTTP/1.1\r\nHost: a\r\n\r\n"));
    }

    @Test
    void headersTooLargeAre431() {
        assertRefused(431, send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + "b".repeat(5000) + "\r\n\r\n"));
    }

    @Test
    void tooManyHeadersAre431() {
        assertRefused(431, send("GET / HTTP/1.1\r\nHost: a\r\n" + "X-A: 1\r\n".repeat(30) + "\r\n"));
    }

    @Test
    void bodyTooLargeIs413BeforeItIsRead() {
        assertRefused(413, send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n"));
    }

    @Test
    void bodyTooLargeWithExpectContinueIs413AndTheConnectionStays() {
        String wire = send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n"
                + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
        assertEquals(List.of(413, 200), statuses(wire), "the body was never sent: " + wire);
        assertTrue(channel.isOpen());
        assertEquals(List.of("GET /next "), seen);
    }

    @Test
    void chunkedBodyTooLargeIs413() {
        String wire = send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "800\r\n" + "x".repeat(2048) + "\r\n0\r\n\r\n");
        assertEquals(List.of(413), statuses(wire), wire);
        assertFalse(channel.isOpen());
        assertEquals(List.of(), seen);
    }

    @Test
    void validRequestsPass() {
        String wire = send("GET /one HTTP/1.1\r\nHost: example.com:8080\r\n\r\n"
                + "POST /two HTTP/1.1\r\nHost: [::1]:80\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"
                + "POST /three HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi");
        assertEquals(List.of(200, 200, 200), statuses(wire), wire);
        assertEquals(List.of("GET /one ", "POST /two abcde", "POST /three hi"), seen);
        assertTrue(channel.isOpen(), "keep-alive");
        wire = send("GET /ten HTTP/1.0\r\n\r\n");
        assertEquals(List.of(200), statuses(wire), "HTTP/1.0 needs no Host: " + wire);
        assertFalse(channel.isOpen(), "HTTP/1.0 without keep-alive closes");
    }

    @Test
    void headIsAnsweredWithoutBody() {
        String wire = send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n");
        assertEquals(List.of(200, 200), statuses(wire), wire);
        assertTrue(wire.startsWith("HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\nHTTP/1.1 200 OK"), wire);
    }

    @Test
    void aRequestSplitIntoManyReadsPasses() {
        String request = "POST /slow HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nContent-Length: 3\r\n\r\nxyz";
        StringBuilder wire = new StringBuilder();
        for (char c : request.toCharArray()) {
            wire.append(send(String.valueOf(c)));
        }
        assertEquals(List.of(200), statuses(wire.toString()));
        assertEquals(List.of("POST /slow xyz"), seen);
    }

    @Test
    void aBodyWithFoldLikeBytesIsNotAFold() {
        String wire = send("POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n\r\na\r\n b\r\n"
                + "GET /c HTTP/1.1\r\nHost: a\r\n\r\n");
        assertEquals(List.of(200, 200), statuses(wire), wire);
        assertEquals(List.of("POST /b a\r\n b\r\n", "GET /c "), seen);
    }

    @Test
    void aRefusalWaitsForTheAnswersOwedToEarlierRequests() {
        String wire = send("GET /later HTTP/1.1\r\nHost: a\r\n\r\nGET /bad HTTP/1.1\r\n\r\n");
        assertEquals(List.of(), statuses(wire), "nothing is answered before /later: " + wire);
        answer(later.get(0), "late\n");
        wire = received();
        assertEquals(List.of(200, 400), statuses(wire), wire);
        assertFalse(channel.isOpen());
        assertEquals(List.of("GET /later "), seen);
    }

    @Test
    void aHalfSentHeadIsAnswered408AfterTheHeaderTimeout() {
        assertEquals("", send("GET / HTTP/1.1\r\nHo"));
        advance(900);
        assertEquals("", send("st: a\r\n"), "still in time");
        advance(200);
        assertRefused(408, received());
    }

    @Test
    void aStalledBodyIsAnswered408AfterTheBodyTimeout() {
        assertEquals("", send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"));
        advance(1900);
        assertEquals("", send("de"), "each read restarts the body clock");
        advance(1900);
        assertTrue(channel.isOpen());
        advance(200);
        assertRefused(408, received());
    }

    @Test
    void anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() {
        assertEquals(List.of(200), statuses(send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")));
        advance(4900);
        assertTrue(channel.isOpen());
        advance(200);
        assertFalse(channel.isOpen(), "closed without an answer: no request was started");
    }

    @Test
    void noClockRunsWhileTheAppIsAnswering() {
        send("GET /later HTTP/1.1\r\nHost: a\r\n\r\nGET /sec");
        advance(10_000);
        assertTrue(channel.isOpen(), "the app's turn: neither the header nor the idle clock runs");
        answer(later.get(0), "late\n");
        advance(900);
        assertTrue(channel.isOpen(), "the header clock started when the answer was written");
        advance(200);
        assertEquals(List.of(200, 408), statuses(received()));
        assertFalse(channel.isOpen());
    }

    @Test
    void aFreshConnectionThatSendsNothingIsIdle() {
        advance(4900);
        assertTrue(channel.isOpen(), "the header clock starts at the first byte");
        advance(200);
        assertFalse(channel.isOpen());
    }

    @Test
    void aClientClosingMidBodyNeverReachesTheApp() {
        send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc");
        channel.close();
        channel.runPendingTasks();
        assertEquals(List.of(), seen);
        channel.checkException(); // nothing was raised
    }

    private void advance(long ms) {
        channel.advanceTimeBy(ms, TimeUnit.MILLISECONDS);
        channel.runPendingTasks();
    }

    private static String unescape(String s) {
        return s.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t")
                .replace("\\u0000", "\u0000").replace("\\u0016", "\u0016").replace("\\u0003", "\u0003")
                .replace("\\u0001", "\u0001").replace("\\u0002", "\u0002");
    }
}
