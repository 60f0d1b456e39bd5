package dev.drover.worker.runtime;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.nio.charset.StandardCharsets;

/**
 * What RFC 9112 says a server must refuse, beyond what Netty's decoder refuses by itself (a DecoderResult failure):
 * no Host in HTTP/1.1 or more than one, an HTTP major version other than 1, a transfer coding other than chunked,
 * too many header lines, a declared body over the limit, too deep a pipeline. Each refusal is a status and a reason;
 * {@link ServerCodec} answers it with {@code Connection: close} and closes.
 */
final class RequestRules {

    /** Requests a client may pipeline without reading the answers, as Netty's HttpServerCodec allows. */
    static final int MAX_PIPELINED = 128;

    /** A request refused: the status, and the reason given in the answer's body. */
    record Refusal(HttpResponseStatus status, String why) {

        /** The whole answer, encoded: written under the codec's own encoder, it must be bytes already. */
        ByteBuf encode(ByteBufAllocator alloc, boolean head) {
            byte[] body = (status + ": " + why + "\n").getBytes(StandardCharsets.UTF_8);
            String top = "HTTP/1.1 " + status + "\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: "
                    + body.length + "\r\nconnection: close\r\n\r\n";
            ByteBuf out = alloc.buffer(top.length() + body.length).writeBytes(top.getBytes(StandardCharsets.US_ASCII));
            return head ? out : out.writeBytes(body);
        }
    }

    /** What the decoder noticed about a head's header lines while splitting them, so that no lookup is needed. */
    static final class HeadLines {
        int hosts;
        boolean transferEncoding;
        boolean contentLength;

        void clear() {
            hosts = 0;
            transferEncoding = false;
            contentLength = false;
        }
    }

    private RequestRules() {
    }

    /** Why {@code request} must be refused, or null; {@code owed}: answers still owed to earlier requests. */
    static Refusal check(HttpRequest request, HeadLines lines, long owed, HttpLimits limits) {
        DecoderResult result = request.decoderResult();
        if (result.isFailure()) {
            return decodingFailed(result, limits);
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
        String host = hostProblem(headers, lines.hosts, version.minorVersion() >= 1);
        if (host != null) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, host);
        }
        if (lines.transferEncoding) {
            // Netty's decoder has made sure that chunked is the final coding; any other is one this server cannot undo.
            String codings = headers.get(HttpHeaderNames.TRANSFER_ENCODING);
            if (!HttpHeaderValues.CHUNKED.contentEqualsIgnoreCase(codings.trim())
                    || headers.getAll(HttpHeaderNames.TRANSFER_ENCODING).size() > 1) {
                return new Refusal(HttpResponseStatus.NOT_IMPLEMENTED, "Transfer-Encoding: " + codings
                        + " (expected: chunked alone)");
            }
        }
        if (lines.contentLength) {
            long length = HttpUtil.getContentLength(request, -1L);
            // The aggregator would answer 413 and keep the connection, reading and dropping the whole body. With
            // Expect: 100-continue it is left to the aggregator: that client has not sent its body.
            if (length > limits.maxBodySize() && !HttpUtil.is100ContinueExpected(request)) {
                return new Refusal(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "a body of " + length
                        + " bytes, more than " + limits.maxBodySize() + " (drover.http.max-body-size)");
            }
        }
        if (owed >= MAX_PIPELINED) {
            return new Refusal(HttpResponseStatus.TOO_MANY_REQUESTS, "more than " + MAX_PIPELINED
                    + " requests sent without reading their answers");
        }
        return null;
    }

    static Refusal decodingFailed(DecoderResult result, HttpLimits limits) {
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

    /** RFC 9112 section 3.2: exactly one Host in HTTP/1.1, at most one before, and a host[:port] value. */
    private static String hostProblem(HttpHeaders headers, int hosts, boolean required) {
        if (hosts == 0) {
            return required ? "no Host header (HTTP/1.1 requires one)" : null;
        }
        if (hosts > 1) {
            return "more than one Host header";
        }
        String host = headers.get(HttpHeaderNames.HOST);
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c >= HOST_CHARS.length || !HOST_CHARS[c]) {
                return "the Host header is not host[:port]";
            }
        }
        return null;
    }

    /** The characters of a host (a name, IPv4, [IPv6]) and a port: RFC 3986's reg-name, IP-literal and port. */
    private static final boolean[] HOST_CHARS = new boolean[128];

    static {
        for (char c : "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%:[]".toCharArray()) {
            HOST_CHARS[c] = true;
        }
    }

    /** The decoder's reason, printable and short: it may quote what the client sent. */
    static String describe(DecoderResult result) {
        String text = String.valueOf(result.cause().getMessage());
        StringBuilder safe = new StringBuilder(Math.min(text.length(), 200));
        for (int i = 0; i < text.length() && safe.length() < 200; i++) {
            char c = text.charAt(i);
            safe.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return safe.toString();
    }
}
