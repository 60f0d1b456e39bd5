package dev.drover.worker.runtime;

import dev.drover.worker.api.DroverApp;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The optional warm-up before READY (drover.warmup): requests run through the same HTTP codec and the app's own
 * handler as real ones, in-process on an EmbeddedChannel, so that the JIT has compiled the hot path before the
 * worker takes traffic. Nothing touches the network and the connection tracker never sees them, so they do not
 * count toward max-requests. A handler that answers asynchronously is given up to {@link #ANSWER_WAIT_MS} per
 * request; the time limit bounds the whole warm-up.
 */
final class Warmup {

    static final long ANSWER_WAIT_MS = 1000;

    /** How many requests, which ones ("METHOD /path", taken in turn), and the time limit. */
    record Plan(int count, List<String> requests, long timeLimitMs) {
        boolean enabled() {
            return count > 0 && !requests.isEmpty();
        }
    }

    /** What the warm-up did, for the READY line. */
    record Result(int sent, int answered2xx, int answeredOther, long millis, String stoppedBecause) {
        String describe() {
            return "warm-up: " + sent + " request(s) in " + millis + " ms, " + answered2xx + " answered 2xx"
                    + (answeredOther > 0 ? ", " + answeredOther + " answered otherwise (check drover.warmup.paths)" : "")
                    + (stoppedBecause.isEmpty() ? "" : "; stopped early: " + stoppedBecause);
        }
    }

    private final DroverApp app;
    private final Plan plan;
    private final byte[][] wire;
    private EmbeddedChannel channel;

    Warmup(DroverApp app, Plan plan) {
        this.app = app;
        this.plan = plan;
        this.wire = new byte[plan.requests().size()][];
        for (int i = 0; i < wire.length; i++) {
            String[] parts = plan.requests().get(i).split(" ", 2);
            wire[i] = (parts[0] + " " + parts[1] + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: drover-warmup\r\n"
                    + "Content-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        }
    }

    Result run() {
        long started = System.nanoTime();
        long deadline = started + TimeUnit.MILLISECONDS.toNanos(plan.timeLimitMs());
        int sent = 0;
        int ok = 0;
        int other = 0;
        String stopped = "";
        try {
            for (; sent < plan.count(); sent++) {
                if (System.nanoTime() - deadline >= 0) {
                    stopped = "drover.warmup.time-limit (" + plan.timeLimitMs() + " ms) reached";
                    break;
                }
                int status = exchange(wire[sent % wire.length]);
                if (status < 0) {
                    stopped = "no answer within " + ANSWER_WAIT_MS + " ms to " + plan.requests().get(sent % wire.length);
                    sent++;
                    break;
                }
                if (status >= 200 && status < 300) {
                    ok++;
                } else {
                    other++;
                }
            }
        } catch (RuntimeException e) {
            stopped = "the handler threw " + e;
            sent++;
        } finally {
            if (channel != null) {
                channel.finishAndReleaseAll();
            }
        }
        return new Result(sent, ok, other, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), stopped);
    }

    /** Sends one request and reads its whole answer; returns the status code, or -1 if none came in time. */
    private int exchange(byte[] request) {
        if (channel == null || !channel.isOpen()) {
            if (channel != null) {
                channel.finishAndReleaseAll();
            }
            channel = new EmbeddedChannel();
            HttpService.addHttp(channel.pipeline(), HttpLimits.DEFAULTS, app.newRequestHandler(), new LastResortHandler());
        }
        // A direct buffer from the channel's allocator, as the epoll transport delivers them: the JIT then
        // compiles the codec for the buffer types real traffic brings, and need not throw that work away later.
        channel.writeInbound(channel.alloc().directBuffer(request.length).writeBytes(request));
        long waitUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ANSWER_WAIT_MS);
        int status = -1;
        while (true) {
            channel.runPendingTasks();
            Object out;
            boolean any = false;
            while ((out = channel.readOutbound()) != null) {
                any = true;
                if (status < 0 && out instanceof ByteBuf bytes) {
                    status = statusOf(bytes);
                }
                ReferenceCountUtil.release(out);
            }
            if (status >= 0 && !any) {
                return status; // the answer came and nothing more is being written
            }
            if (System.nanoTime() - waitUntil >= 0) {
                return status;
            }
            if (!any) {
                Thread.onSpinWait();
            }
        }
    }

    /** The status code of an encoded response's first line ("HTTP/1.1 200 OK"), or 0 if it is not one. */
    static int statusOf(ByteBuf bytes) {
        int start = bytes.readerIndex();
        if (bytes.readableBytes() < 12 || bytes.getByte(start) != 'H') {
            return 0;
        }
        int space = bytes.indexOf(start, start + Math.min(bytes.readableBytes(), 16), (byte) ' ');
        if (space < 0 || space + 4 > bytes.writerIndex()) {
            return 0;
        }
        int code = 0;
        for (int i = space + 1; i < space + 4; i++) {
            int digit = bytes.getByte(i) - '0';
            if (digit < 0 || digit > 9) {
                return 0;
            }
            code = code * 10 + digit;
        }
        return code;
    }
}
