package dev.drover.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.unix.FileDescriptor;
import io.netty.handler.codec.DecoderException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LinkMessageTest {

    private static final LinkMessage STATS = LinkMessage.of(LinkMessage.Type.STATS).put("requests", 12)
            .put("inflight", 0).put("loop_stall_ms", 3).build();

    @Test
    void encodesAndDecodesEveryType() {
        for (LinkMessage.Type type : LinkMessage.Type.values()) {
            LinkMessage message = LinkMessage.of(type).put("id", 2).put("secret", "ab12").build();
            assertEquals(message, LinkMessage.decode(message.encode()));
        }
        assertEquals("STATS requests=12 inflight=0 loop_stall_ms=3", STATS.encode());
        assertEquals(12, LinkMessage.decode(STATS.encode()).number("requests"));
    }

    @Test
    void roundTripsThroughTheNettyCodecOnBothEnds() {
        EmbeddedChannel sender = new EmbeddedChannel();
        LinkCodec.install(sender.pipeline());
        EmbeddedChannel receiver = new EmbeddedChannel();
        LinkCodec.install(receiver.pipeline());
        LinkMessage ready = LinkMessage.of(LinkMessage.Type.READY).put("boot_ms", 412).build();
        sender.writeOutbound(STATS, ready);
        ByteBuf wire = Unpooled.buffer();
        for (ByteBuf chunk = sender.readOutbound(); chunk != null; chunk = sender.readOutbound()) {
            wire.writeBytes(chunk);
            chunk.release();
        }
        // Split the bytes at an awkward place: framing must not depend on how reads arrive.
        receiver.writeInbound(wire.readRetainedSlice(7), wire.readRetainedSlice(wire.readableBytes()));
        wire.release();
        assertEquals(STATS, receiver.readInbound());
        assertEquals(ready, receiver.readInbound());
    }

    @Test
    void fileDescriptorsPassThroughTheDecoder() {
        EmbeddedChannel receiver = new EmbeddedChannel();
        LinkCodec.install(receiver.pipeline());
        FileDescriptor fd = new FileDescriptor(42);
        receiver.writeInbound(fd);
        assertEquals(fd, receiver.readInbound());
    }

    @Test
    void extraSpacesAreIgnoredAndEveryBadWordIsRefused() {
        assertEquals(12, LinkMessage.decode("  STATS   requests=12  inflight=0 ").number("requests"));
        assertTrue(assertThrows(LinkProtocolException.class, () -> LinkMessage.decode("   ")).getMessage()
                .startsWith("empty control-link message"));
        assertTrue(assertThrows(LinkProtocolException.class, () -> LinkMessage.decode("STATS a=b=c")).getMessage()
                .contains("field a=b=c"));
        assertTrue(assertThrows(LinkProtocolException.class, () -> LinkMessage.decode("STATS =1")).getMessage()
                .contains("malformed field '=1'"));
        assertTrue(assertThrows(LinkProtocolException.class, () -> LinkMessage.decode("STATS a=")).getMessage()
                .contains("field a="));
    }

    @Test
    void malformedLinesSayWhatWasWrong() {
        assertTrue(assertThrows(LinkProtocolException.class, () -> LinkMessage.decode("HELO id=1")).getMessage()
                .contains("unknown control-link message type 'HELO' in \"HELO id=1\" (expected one of: [HELLO"));
        assertTrue(assertThrows(LinkProtocolException.class, () -> LinkMessage.decode("STATS requests")).getMessage()
                .contains("malformed field 'requests' in control-link message \"STATS requests\" (expected: key=value)"));
        LinkMessage odd = LinkMessage.decode("STATS requests=many");
        assertEquals("STATS field requests: many (expected: a whole number)",
                assertThrows(LinkProtocolException.class, () -> odd.number("requests")).getMessage());
        assertTrue(assertThrows(LinkProtocolException.class, () -> odd.number("inflight")).getMessage()
                .contains("lacks field 'inflight'"));
        assertThrows(LinkProtocolException.class, () -> LinkMessage.of(LinkMessage.Type.READY).put("x", "a b"));
    }

    @Test
    void aCeilingCarriesItsDeadlineAndRefusesOneBelowTheMinimum() {
        LinkMessage ceiling = LinkMessage.decode("CEILING deadline_ms=850 evidence=/run/drover/evidence-7.json");
        assertEquals(850, ceiling.number("deadline_ms", 1, "the time before SIGKILL in ms"));
        assertEquals("/run/drover/evidence-7.json", ceiling.text("evidence"));
        LinkMessage zero = LinkMessage.decode("CEILING deadline_ms=0");
        assertEquals("CEILING field deadline_ms: 0 (expected: the time before SIGKILL in ms, a whole number of at least 1)",
                assertThrows(LinkProtocolException.class,
                        () -> zero.number("deadline_ms", 1, "the time before SIGKILL in ms")).getMessage());
        assertTrue(assertThrows(LinkProtocolException.class, () -> LinkMessage.decode("CEILING")
                .number("deadline_ms", 1, "the time before SIGKILL in ms")).getMessage()
                .contains("CEILING message lacks field 'deadline_ms'"));
    }

    @Test
    void aMalformedLineReachesTheHandlerAsADecoderException() {
        EmbeddedChannel receiver = new EmbeddedChannel();
        LinkCodec.install(receiver.pipeline());
        DecoderException e = assertThrows(DecoderException.class,
                () -> receiver.writeInbound(Unpooled.copiedBuffer("NOPE\n", StandardCharsets.US_ASCII)));
        assertTrue(e.getCause() instanceof LinkProtocolException);
    }
}
