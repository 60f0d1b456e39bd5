package dev.drover.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.MessageToMessageCodec;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The control link's codec, used by both ends: newline-terminated {@link LinkMessage} lines.
 * Non-byte messages (file descriptors received over SCM_RIGHTS) pass through untouched.
 */
public final class LinkCodec extends MessageToMessageCodec<ByteBuf, LinkMessage> {

    /** Longest line either side accepts; a STATS line is about 120 bytes. */
    public static final int MAX_LINE = 4096;

    /** Adds the framing and the codec to a link channel's pipeline. */
    public static void install(ChannelPipeline pipeline) {
        pipeline.addLast("frames", new LineBasedFrameDecoder(MAX_LINE));
        pipeline.addLast("link", new LinkCodec());
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, LinkMessage msg, List<Object> out) {
        // Unpooled: a worker sends its first line (HELLO) before it serves anything, and setting up the pooled
        // allocator for one short line would add its start-up cost to the worker's boot.
        out.add(Unpooled.wrappedBuffer((msg.encode() + "\n").getBytes(StandardCharsets.US_ASCII)));
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out) {
        out.add(LinkMessage.decode(frame.toString(StandardCharsets.US_ASCII)));
    }
}
