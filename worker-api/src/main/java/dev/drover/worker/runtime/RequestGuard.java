package dev.drover.worker.runtime;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;

/**
 * Stands between the codec and the aggregator: a request that failed to decode, or that RFC 9112 says a server must
 * refuse (no Host in HTTP/1.1, two Hosts, an HTTP major version other than 1, a transfer coding other than chunked,
 * too many header lines, a declared body over the limit), is answered here with its status and {@code Connection: close}, and the connection
 * closes. Nothing of it, nor anything the client sends after it, reaches the aggregator or the app. Answers 408 when
 * a {@link ConnectionDeadlines read deadline} runs out. A refusal waits for the answers still owed to earlier
 * pipelined requests, so responses stay in order.
 */
final class RequestGuard extends ChannelDuplexHandler {

    private static final LazyLogging.Log log = LazyLogging.Log.of(RequestGuard.class);

    /** Requests a client may pipeline without reading the answers, as Netty's HttpServerCodec allows. */
    static final int MAX_PIPELINED = 128;

    private record Refusal(HttpResponseStatus status, String why) {
    }

    private final HttpLimits limits;
    private long heads;
    private long responses;
    private boolean inBody;
    private boolean informational;
    private Refusal refusal;
    private boolean answered;

    RequestGuard(HttpLimits limits) {
        this.limits = limits;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refusal != null) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest request) {
            Refusal why = check(request);
            if (why != null) {
                ReferenceCountUtil.release(msg);
                refuse(ctx, why);
                return;
            }
            heads++;
            inBody = true;
        }
        if (msg instanceof HttpContent content) {
            if (content.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                refuse(ctx, new Refusal(HttpResponseStatus.BAD_REQUEST, "bad body: " + describe(content.decoderResult())));
                return;
            }
            if (msg instanceof LastHttpContent) {
                inBody = false;
            }
        }
        ctx.fireChannelRead(msg);
    }

    /** Why {@code request} must be refused, or null. Cheap for a valid request: no copies, no allocation but one iterator. */
    private Refusal check(HttpRequest request) {
        DecoderResult result = request.decoderResult();
        if (result.isFailure()) {
            Throwable cause = result.cause();
            if (cause instanceof TooLongHttpLineException) {
                return new Refusal(HttpResponseStatus.REQUEST_URI_TOO_LONG, "the request line is longer than "
                        + limits.maxRequestLine() + " bytes (drover.http.max-request-line)");
            }
            if (cause instanceof TooLongHttpHeaderException) {
                return new Refusal(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "the headers are larger than "
                        + limits.maxHeaderSize() + " bytes (drover.http.max-header-size)");
            }
            return new Refusal(HttpResponseStatus.BAD_REQUEST, describe(result));
        }
        HttpVersion version = request.protocolVersion();
        if (version.majorVersion() != 1) {
            return new Refusal(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED, version.text() + " is not served here"
                    + " (expected: HTTP/1.0 or HTTP/1.1)");
        }
        HttpHeaders headers = request.headers();
        if (headers.size() > limits.maxHeaders()) {
            return new Refusal(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, headers.size()
                    + " header lines, more than " + limits.maxHeaders() + " (drover.http.max-headers)");
        }
        String host = hostProblem(headers, version.minorVersion() >= 1);
        if (host != null) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, host);
        }
        String codings = headers.get(HttpHeaderNames.TRANSFER_ENCODING);
        // Netty's decoder has made sure that chunked is the final coding; any other is one this server cannot undo.
        if (codings != null && (!HttpHeaderValues.CHUNKED.contentEqualsIgnoreCase(codings.trim())
                || headers.getAll(HttpHeaderNames.TRANSFER_ENCODING).size() > 1)) {
            return new Refusal(HttpResponseStatus.NOT_IMPLEMENTED, "Transfer-Encoding: " + codings
                    + " (expected: chunked alone)");
        }
        long length = HttpUtil.getContentLength(request, -1L);
        if (length > limits.maxBodySize() && !HttpUtil.is100ContinueExpected(request)) {
            // The aggregator would answer 413 and keep the connection, reading and dropping the whole body. With
            // Expect: 100-continue it is left to the aggregator: that client has not sent its body.
            return new Refusal(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "a body of " + length
                    + " bytes, more than " + limits.maxBodySize() + " (drover.http.max-body-size)");
        }
        if (heads - responses >= MAX_PIPELINED) {
            return new Refusal(HttpResponseStatus.TOO_MANY_REQUESTS, "more than " + MAX_PIPELINED
                    + " requests sent without reading their answers");
        }
        return null;
    }

    /** RFC 9112 section 3.2: exactly one Host in HTTP/1.1, at most one before, and a host[:port] value. */
    private static String hostProblem(HttpHeaders headers, boolean required) {
        Iterator<? extends CharSequence> hosts = headers.valueCharSequenceIterator(HttpHeaderNames.HOST);
        if (!hosts.hasNext()) {
            return required ? "no Host header (HTTP/1.1 requires one)" : null;
        }
        CharSequence host = hosts.next();
        if (hosts.hasNext()) {
            return "more than one Host header";
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            boolean allowed = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || "-._~!$&'()*+,;=%:[]".indexOf(c) >= 0;
            if (!allowed) {
                return "the Host header is not host[:port]";
            }
        }
        return null;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ConnectionDeadlines.Expired expired) {
            if (refusal == null) {
                refuse(ctx, new Refusal(HttpResponseStatus.REQUEST_TIMEOUT, "the request " + expired.what()
                        + " was not received within " + expired.limitMs() + " ms (drover.http." + expired.what()
                        + "-timeout)"));
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse response) {
            informational = response.status().codeClass() == HttpStatusClass.INFORMATIONAL;
        }
        ctx.write(msg, promise);
        if (msg instanceof LastHttpContent && !informational) {
            responses++;
            if (refusal != null) {
                answerWhenDue(ctx);
            }
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (inBody) {
            // The client went away in the middle of a body: drop the part the aggregator holds, so that the app
            // never hears of it (the aggregator would raise PrematureChannelClosureException at it).
            removeAggregator(ctx);
        }
        ctx.fireChannelInactive();
    }

    private void refuse(ChannelHandlerContext ctx, Refusal why) {
        refusal = why;
        ctx.channel().config().setAutoRead(false); // read nothing more from this client
        removeAggregator(ctx);
        log.debug("refusing a request from {}: {} {}", ctx.channel().remoteAddress(), why.status().code(), why.why());
        answerWhenDue(ctx);
    }

    /** Answers the refusal once every earlier request has had its answer (a request cut short owes none). */
    private void answerWhenDue(ChannelHandlerContext ctx) {
        long owed = (inBody ? heads - 1 : heads) - responses;
        if (answered || owed > 0) {
            return;
        }
        answered = true;
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, refusal.status(),
                Unpooled.copiedBuffer(refusal.status() + ": " + refusal.why() + "\n", StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes())
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    private static void removeAggregator(ChannelHandlerContext ctx) {
        if (ctx.pipeline().get(HttpObjectAggregator.class) != null) {
            ctx.pipeline().remove(HttpObjectAggregator.class);
        }
    }

    /** The decoder's reason, printable and short: it may quote what the client sent. */
    private static String describe(DecoderResult result) {
        String text = String.valueOf(result.cause().getMessage());
        StringBuilder safe = new StringBuilder(Math.min(text.length(), 200));
        for (int i = 0; i < text.length() && safe.length() < 200; i++) {
            char c = text.charAt(i);
            safe.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return safe.toString();
    }
}
