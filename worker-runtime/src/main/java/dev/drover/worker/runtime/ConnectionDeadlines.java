package dev.drover.worker.runtime;

import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.concurrent.Ticker;
import java.util.concurrent.TimeUnit;

/**
 * One connection's read deadlines, fed by {@link ServerCodec}: an idle keep-alive connection is closed after
 * idle-timeout; a request head must be complete within header-timeout of its first read (the slowloris defence);
 * a body may pause for at most body-timeout between reads. One clock reading per request in the usual case (the
 * whole request in one read), and one scheduled check per connection, moved only when it fires or when a phase
 * with a shorter limit begins: checks on a keep-alive connection cost next to nothing. While a response to an earlier request is still owed,
 * no clock runs (it is the app's turn), and every clock restarts when that response has been written.
 * A head or body that runs out of time is handed to {@link Expiry} (ServerCodec answers 408 and closes).
 */
final class ConnectionDeadlines {

    private static final LazyLogging.Log log = LazyLogging.Log.of(ConnectionDeadlines.class);

    /** Told when a head or a body ran out of time: {@code what} is "header" or "body". */
    interface Expiry {
        void expired(String what, long limitMs);
    }

    private enum Phase { IDLE, HEAD, BODY }

    private final long idleNanos;
    private final long headerNanos;
    private final long bodyNanos;
    private Phase phase = Phase.IDLE;
    private boolean headClockStarted;
    private long heads;
    private long responses;
    /** When the current phase's clock started (the event loop's ticker). */
    private long since;
    /** When the scheduled check runs. It is moved only when a phase with a shorter limit begins. */
    private long checkAt;
    private final Expiry expiry;
    private ChannelHandlerContext ctx;
    private Ticker ticker;
    private ScheduledFuture<?> check;

    ConnectionDeadlines(HttpLimits limits, Expiry expiry) {
        this.expiry = expiry;
        idleNanos = TimeUnit.MILLISECONDS.toNanos(limits.idleTimeoutMs());
        headerNanos = TimeUnit.MILLISECONDS.toNanos(limits.headerTimeoutMs());
        bodyNanos = TimeUnit.MILLISECONDS.toNanos(limits.bodyTimeoutMs());
    }

    void start(ChannelHandlerContext ctx) {
        if (this.ctx != null) {
            return;
        }
        this.ctx = ctx;
        this.ticker = ctx.executor().ticker();
        since = now();
        schedule(since + idleNanos);
    }

    void stop() {
        if (check != null) {
            check.cancel(false);
            check = null;
        }
    }

    /**
     * Bytes of a request head arrived, with no head under way. Its clock starts at the end of this read
     * ({@link #readDone}), and only if the head is still incomplete then: a whole head in one read, the usual case,
     * costs no clock reading.
     */
    void requestStarted() {
        if (phase == Phase.IDLE) {
            phase = Phase.HEAD;
            headClockStarted = false;
        }
    }

    void headDecoded() {
        heads++;
        phase = Phase.BODY;
    }

    /** The request is complete, or (a refused Expect: 100-continue) abandoned. */
    void requestEnded() {
        phase = Phase.IDLE;
        if (!waiting()) {
            restartClock(); // answered before it was complete (a 413): the idle clock starts now
        }
    }

    /** The end of one read: a head still incomplete has its clock started once; a body's clock restarts. */
    void readDone() {
        if (phase == Phase.BODY || phase == Phase.HEAD && !headClockStarted) {
            headClockStarted = true;
            restartClock();
        }
    }

    void responseWritten() {
        responses++;
        if (!waiting()) {
            restartClock(); // the clock of whatever the client does next starts now, not while the app was busy
        }
    }

    private void restartClock() {
        since = now();
        long due = since + limit();
        if (ctx != null && due - checkAt < 0) {
            stop();
            schedule(due);
        }
    }

    /** A response to an earlier request is still owed: the app's turn, not the client's. */
    private boolean waiting() {
        return (phase == Phase.BODY ? heads - 1 : heads) - responses > 0;
    }

    private long limit() {
        return switch (phase) {
            case IDLE -> idleNanos;
            case HEAD -> headerNanos;
            case BODY -> bodyNanos;
        };
    }

    private void schedule(long at) {
        checkAt = at;
        check = ctx.executor().schedule(this::check, Math.max(0, at - now()), TimeUnit.NANOSECONDS);
    }

    private void check() {
        if (!ctx.channel().isActive()) {
            return;
        }
        long now = now();
        if (waiting()) {
            schedule(now + limit());
        } else if (since + limit() - now > 0) {
            schedule(since + limit());
        } else if (phase == Phase.IDLE) {
            log.debug("closing {}: idle for {} ms (drover.http.idle-timeout)", ctx.channel().remoteAddress(),
                    TimeUnit.NANOSECONDS.toMillis(idleNanos));
            ctx.close();
        } else {
            expiry.expired(phase == Phase.HEAD ? "header" : "body", TimeUnit.NANOSECONDS.toMillis(limit()));
        }
    }

    /** The event loop's clock: the real one, or the one an EmbeddedChannel test moves forward. */
    private long now() {
        return ticker != null ? ticker.nanoTime() : System.nanoTime();
    }
}
