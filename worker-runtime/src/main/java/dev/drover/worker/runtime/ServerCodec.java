package dev.drover.worker.runtime;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpConstants;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpExpectationFailedEvent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The worker's HTTP/1.1 codec: Netty's request decoder, strict, and its response encoder, plus what RFC 9112 asks of
 * a server beyond them: a header line that starts with whitespace (obs-fold) is refused rather than folded, and a
 * request that failed to decode or that {@link RequestRules} refuses is answered here with its status and
 * {@code Connection: close}, after the answers still owed to earlier pipelined requests; the connection then closes.
 * Nothing of a refused request, nor anything sent after it, reaches the aggregator or the app. It also keeps the
 * connection's {@link ConnectionDeadlines}. A twin of Netty's HttpServerCodec (final, and its decoder does not say
 * where a head begins and ends), keeping its rule that an answer to HEAD has no body. One handler rather than a
 * codec and a guard behind it: a second handler's hops and lookups cost more than 2 % of a small request.
 */
final class ServerCodec extends CombinedChannelDuplexHandler<HttpRequestDecoder, HttpResponseEncoder> {

    private static final LazyLogging.Log log = LazyLogging.Log.of(ServerCodec.class);
    private static final AsciiString HOST = HttpHeaderNames.HOST;
    private static final AsciiString TRANSFER_ENCODING = HttpHeaderNames.TRANSFER_ENCODING;
    private static final AsciiString CONTENT_LENGTH = HttpHeaderNames.CONTENT_LENGTH;

    /** Why a request was refused before Netty's decoder saw its head. */
    static final class ObsFoldException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        ObsFoldException() {
            super("a header line starts with a space or tab (obsolete line folding, refused by RFC 9112 section 5.2)");
        }
    }

    private final HttpLimits limits;
    private final ConnectionDeadlines deadlines;
    /** The numbers (1, 2, ...) of the HEAD requests not yet answered, whose answers have no body. */
    private final ArrayDeque<Long> headRequests = new ArrayDeque<>(2);
    private final RequestRules.HeadLines lines = new RequestRules.HeadLines();
    /** Requests whose head was passed on, and answers written (not counting 1xx). */
    private long decodedRequests;
    private long answeredRequests;
    /** A body is under way: the last head passed on has not had its last content yet. */
    private boolean inBody;
    private ChannelHandlerContext ctx;
    private RequestRules.Refusal refusal;
    /** The refusal is answered once this many requests have been answered. */
    private long refusalAfter;
    private boolean refusalForHead;

    ServerCodec(HttpLimits limits) {
        this.limits = limits;
        this.deadlines = new ConnectionDeadlines(limits, (what, limitMs) -> refuse(new RequestRules.Refusal(
                HttpResponseStatus.REQUEST_TIMEOUT, "the request " + what + " was not received within " + limitMs
                + " ms (drover.http." + what + "-timeout)"), false));
        init(new Decoder(decoderConfig(limits)), new Encoder());
    }

    static HttpDecoderConfig decoderConfig(HttpLimits limits) {
        return new HttpDecoderConfig()
                .setMaxInitialLineLength(limits.maxRequestLine())
                .setMaxHeaderSize(limits.maxHeaderSize())
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true)
                .setAllowDuplicateContentLengths(false)
                // Names and values: a control character (a lone CR, NUL) in a value is refused, not passed on.
                .setHeadersFactory(DefaultHttpHeadersFactory.headersFactory().withValidation(true))
                .setTrailersFactory(DefaultHttpHeadersFactory.trailersFactory().withValidation(true));
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        super.handlerAdded(ctx);
        if (ctx.channel().isActive()) {
            deadlines.start(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        deadlines.start(ctx);
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        deadlines.stop();
        if (inBody) {
            // The client went away in the middle of a body: drop the part the aggregator holds, so that the app
            // never hears of it (the aggregator would raise PrematureChannelClosureException at it).
            removeAggregator();
        }
        super.channelInactive(ctx);
    }

    /**
     * Whether part of a request has been read and not yet passed on: a head still arriving, or a body under way.
     * A drain must not close such a connection as idle. On the connection's event loop only.
     */
    boolean midRequest() {
        return inBody || ((Decoder) inboundHandler()).holdsPart();
    }

    /** Stops reading and drops what the aggregator holds; answers once every earlier request has been answered. */
    private void refuse(RequestRules.Refusal why, boolean head) {
        if (refusal != null) {
            return;
        }
        refusal = why;
        refusalForHead = head;
        refusalAfter = inBody ? decodedRequests - 1 : decodedRequests; // a request cut short owes no answer
        ctx.channel().config().setAutoRead(false);
        removeAggregator();
        log.debug("refusing a request from {}: {} {}", ctx.channel().remoteAddress(), why.status().code(), why.why());
        answerRefusalWhenDue();
    }

    private void answerRefusalWhenDue() {
        if (refusal != null && answeredRequests >= refusalAfter && refusalAfter >= 0) {
            refusalAfter = -1; // answered
            ctx.writeAndFlush(refusal.encode(ctx.alloc(), refusalForHead)).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void removeAggregator() {
        if (ctx.pipeline().get(HttpObjectAggregator.class) != null) {
            ctx.pipeline().remove(HttpObjectAggregator.class);
        }
    }

    private final class Decoder extends HttpRequestDecoder {
        /** No head decoded since the last request ended: what arrives now is (the start of) a head. */
        private boolean inHead = true;
        /** A non-empty line of this head has been seen (empty lines before a request line are allowed). */
        private boolean headHasLine;

        Decoder(HttpDecoderConfig config) {
            super(config);
        }

        /** Bytes of a head are read: a line seen, or bytes waiting for the rest of a line. */
        boolean holdsPart() {
            return headHasLine || internalBuffer().isReadable();
        }

        /**
         * RFC 9112's HTTP-version is "HTTP/" DIGIT "." DIGIT, the name case-sensitive; Netty's parser upper-cases the
         * name and takes any token before the slash ("http/1.1", "FOO/1.1"). Throwing here makes Netty turn the head
         * into a failed request, which RequestRules answers with 400.
         */
        @Override
        protected HttpMessage createMessage(String[] initialLine) throws Exception {
            if (initialLine.length < 3 || !isHttpVersion(initialLine[2])) {
                throw new IllegalArgumentException("not an HTTP version: " + (initialLine.length < 3 ? "(none)"
                        : initialLine[2]) + " (expected: HTTP/1.1 or HTTP/1.0)");
            }
            return super.createMessage(initialLine);
        }

        /** "HTTP/" DIGIT "." DIGIT, by hand: it runs for every request (a regex would cost more than all the rules). */
        private static boolean isHttpVersion(String v) {
            return v.length() == 8 && v.startsWith("HTTP/") && Character.isDigit(v.charAt(5)) && v.charAt(6) == '.'
                    && Character.isDigit(v.charAt(7));
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            if (refusal != null) {
                in.skipBytes(in.readableBytes());
                return;
            }
            int from = out.size();
            if (inHead && in.isReadable()) {
                deadlines.requestStarted();
                if (foldedLine(in)) {
                    in.skipBytes(in.readableBytes());
                    DefaultFullHttpRequest invalid = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
                            "/bad-request", Unpooled.EMPTY_BUFFER);
                    invalid.setDecoderResult(DecoderResult.failure(new ObsFoldException()));
                    out.add(invalid);
                } else {
                    super.decode(ctx, in, out);
                }
            } else {
                super.decode(ctx, in, out);
            }
            for (int i = from; i < out.size(); i++) {
                if (!pass(out.get(i))) {
                    for (int j = out.size() - 1; j >= i; j--) {
                        ReferenceCountUtil.release(out.remove(j));
                    }
                    in.skipBytes(in.readableBytes());
                    return;
                }
            }
            deadlines.readDone();
        }

        /** Whether {@code decoded} goes on to the aggregator; false once it, and all that follows, is refused. */
        private boolean pass(Object decoded) {
            if (decoded instanceof HttpRequest request) {
                RequestRules.Refusal why = RequestRules.check(request, lines, decodedRequests - answeredRequests,
                        limits);
                lines.clear();
                if (why != null) {
                    refuse(why, HttpMethod.HEAD.equals(request.method()));
                    return false;
                }
                inHead = false;
                headHasLine = false;
                inBody = true;
                decodedRequests++;
                if (HttpMethod.HEAD.equals(request.method())) {
                    headRequests.add(decodedRequests);
                }
                deadlines.headDecoded();
            }
            if (decoded instanceof HttpContent content) {
                if (content.decoderResult().isFailure()) {
                    refuse(new RequestRules.Refusal(HttpResponseStatus.BAD_REQUEST, "bad body: "
                            + RequestRules.describe(content.decoderResult())), false);
                    return false;
                }
                if (content instanceof LastHttpContent) {
                    inHead = true;
                    inBody = false;
                    lines.clear(); // trailer lines are not the next head's
                    deadlines.requestEnded();
                }
            }
            return true;
        }

        /**
         * Whether a line of the head in {@code in} starts with a space or tab. The buffer starts at a line's start:
         * Netty's decoder consumes a head's lines whole. Stops at the empty line that ends the head, before the body.
         */
        private boolean foldedLine(ByteBuf in) {
            int end = in.writerIndex();
            for (int i = in.readerIndex(); i < end; ) {
                byte first = in.getByte(i);
                if (first == ' ' || first == '\t') {
                    return true;
                }
                if (first == HttpConstants.CR || first == HttpConstants.LF) {
                    if (headHasLine) {
                        return false; // the end of the head
                    }
                } else {
                    headHasLine = true;
                }
                int lf = in.indexOf(i, end, HttpConstants.LF);
                if (lf < 0) {
                    return false;
                }
                i = lf + 1;
            }
            return false;
        }

        /** Counts the header lines the rules care about as Netty splits them: no lookups for them afterwards. */
        @Override
        protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
            AsciiString name = super.splitHeaderName(sb, start, length);
            if (length == 4 && HOST.contentEqualsIgnoreCase(name)) {
                lines.hosts++;
            } else if (length == 17 && TRANSFER_ENCODING.contentEqualsIgnoreCase(name)) {
                lines.transferEncoding = true;
            } else if (length == 14 && CONTENT_LENGTH.contentEqualsIgnoreCase(name)) {
                lines.contentLength = true;
            }
            return name;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof HttpExpectationFailedEvent) {
                // The aggregator refused an Expect: 100-continue; Netty's decoder drops the body and reads a new head.
                inHead = true;
                inBody = false;
                headHasLine = false;
                deadlines.requestEnded();
            }
            super.userEventTriggered(ctx, evt);
        }
    }

    private final class Encoder extends HttpResponseEncoder {
        private boolean informational;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof HttpResponse response) {
                informational = response.status().codeClass() == HttpStatusClass.INFORMATIONAL;
            }
            super.write(ctx, msg, promise);
            if (msg instanceof LastHttpContent && !informational) {
                answeredRequests++;
                deadlines.responseWritten();
                answerRefusalWhenDue();
            }
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(msg); // a 100 Continue answers no request of its own
            }
            Long head = headRequests.peek();
            if (head != null && head == answeredRequests + 1) {
                headRequests.poll();
                return true;
            }
            return super.isContentAlwaysEmpty(msg);
        }
    }
}
