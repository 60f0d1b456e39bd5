package dev.drover.worker.runtime;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * The pipeline's tail: answers 500 when the app's handler throws, and 404 for a request the app let through.
 * A client that went away (a reset, a close in the middle of a request) is one DEBUG line: nothing failed here.
 */
final class LastResortHandler extends ChannelInboundHandlerAdapter {

    private static final LazyLogging.Log log = LazyLogging.Log.of(LastResortHandler.class);

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
        respond(ctx, HttpResponseStatus.NOT_FOUND, "no handler answered this request\n");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (clientWentAway(ctx, cause)) {
            log.debug("client {} went away: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
            return;
        }
        log.error("request handler failed; answering 500 and closing the connection", cause);
        respond(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error\n")
                .addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * A reset or broken pipe (an IOException from the transport), or Netty's aggregator noticing the close of a
     * client in the middle of a request (PrematureChannelClosureException, raised on channelInactive).
     */
    static boolean clientWentAway(ChannelHandlerContext ctx, Throwable cause) {
        return cause instanceof java.io.IOException || cause instanceof PrematureChannelClosureException
                || cause.getCause() instanceof java.io.IOException && !ctx.channel().isActive();
    }

    private static io.netty.channel.ChannelFuture respond(ChannelHandlerContext ctx, HttpResponseStatus status,
                                                          String body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        return ctx.writeAndFlush(response);
    }
}
