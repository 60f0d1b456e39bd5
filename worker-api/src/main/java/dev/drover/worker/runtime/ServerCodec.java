package dev.drover.worker.runtime;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.DecoderResultProvider;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpConstants;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpExpectationFailedEvent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The worker's HTTP/1.1 codec: Netty's request decoder, strict, plus the one framing rule of RFC 9112 it does not
 * enforce (a header line that starts with whitespace, obs-fold, is refused rather than folded), and the response
 * encoder; it feeds the connection's {@link ConnectionDeadlines}. A twin of Netty's HttpServerCodec (final, and its
 * decoder does not say where a request head begins and ends), keeping its rule that an answer to HEAD has no body.
 */
final class ServerCodec extends CombinedChannelDuplexHandler<HttpRequestDecoder, HttpResponseEncoder> {

    /** Why a request was refused before Netty's decoder saw its head: what {@link RequestGuard} answers. */
    static final class ObsFoldException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        ObsFoldException() {
            super("a header line starts with a space or tab (obsolete line folding, refused by RFC 9112 section 5.2)");
        }
    }

    /** One entry per request not yet answered: true for HEAD, whose answer has no body. */
    private final ArrayDeque<Boolean> heads = new ArrayDeque<>();
    private final ConnectionDeadlines deadlines;

    ServerCodec(HttpLimits limits) {
        deadlines = new ConnectionDeadlines(limits);
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
        super.channelInactive(ctx);
    }

    private final class Decoder extends HttpRequestDecoder {
        /** No head decoded since the last request ended: what arrives now is (the start of) a head. */
        private boolean inHead = true;
        /** A non-empty line of this head has been seen (empty lines before a request line are allowed). */
        private boolean headHasLine;
        private boolean refused;

        Decoder(HttpDecoderConfig config) {
            super(config);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            if (refused) {
                in.skipBytes(in.readableBytes());
                return;
            }
            int from = out.size();
            if (inHead && in.isReadable()) {
                deadlines.headStarted();
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
                observe(out.get(i));
            }
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

        private void observe(Object decoded) {
            if (decoded instanceof DecoderResultProvider p && p.decoderResult().isFailure()) {
                refused = true; // Netty's decoder discards the rest too; RequestGuard answers and closes
            }
            if (decoded instanceof HttpRequest request) {
                inHead = false;
                headHasLine = false;
                heads.add(HttpMethod.HEAD.equals(request.method()));
                deadlines.headDecoded();
            }
            if (decoded instanceof LastHttpContent) {
                inHead = true;
                deadlines.requestEnded();
            } else if (decoded instanceof HttpContent) {
                deadlines.bodyRead();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof HttpExpectationFailedEvent) {
                // The aggregator refused an Expect: 100-continue; Netty's decoder drops the body and reads a new head.
                inHead = true;
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
            if (msg instanceof LastHttpContent && !informational) {
                deadlines.responseWritten();
            }
            super.write(ctx, msg, promise);
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(msg); // a 100 Continue answers no request of its own
            }
            Boolean head = heads.poll();
            return (head != null && head) || super.isContentAlwaysEmpty(msg);
        }
    }
}
