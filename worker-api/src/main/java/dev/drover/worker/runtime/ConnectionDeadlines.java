package dev.drover.worker.runtime;

import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One connection's read deadlines, fed by {@link ServerCodec}: an idle keep-alive connection is closed after
 * idle-timeout; a request head must be complete within header-timeout of its first byte (the slowloris defence);
 * a body may pause for at most body-timeout between reads. While a response to an earlier request is still owed,
 * no clock runs (it is the app's turn), and every clock restarts when that response has been written.
 * A head or body that runs out of time is answered 408 by {@link RequestGuard} (a {@link Expired} event).
 */
final class ConnectionDeadlines {

    private static final LazyLogging.Log log = LazyLogging.Log.of(ConnectionDeadlines.class);

    /** The user event a read deadline fires: {@code what} is "header" or "body". */
    record Expired(String what, long limitMs) {
    }

    private enum Phase { IDLE, HEAD, BODY }

    private final long idleNanos;
    private final long headerNanos;
    private final long bodyNanos;
    private Phase phase = Phase.IDLE;
    private long heads;
    private long responses;
    /** When the current phase's clock started (the event loop's ticker). */
    private long since;
    /** When the scheduled check runs. It is moved only when a phase with a shorter limit begins. */
    private long checkAt;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> check;

    ConnectionDeadlines(HttpLimits limits) {
        idleNanos = TimeUnit.MILLISECONDS.toNanos(limits.idleTimeoutMs());
        headerNanos = TimeUnit.MILLISECONDS.toNanos(limits.headerTimeoutMs());
        bodyNanos = TimeUnit.MILLISECONDS.toNanos(limits.bodyTimeoutMs());
    }

    void start(ChannelHandlerContext ctx) {
        if (this.ctx != null) {
            return;
        }
        this.ctx = ctx;
        since = now();
        schedule(since + idleNanos);
    }

    void stop() {
        if (check != null) {
            check.cancel(false);
            check = null;
        }
    }

    /** Bytes of a request head arrived (called on every read until the head is decoded). */
    void headStarted() {
        if (phase == Phase.IDLE) {
            enter(Phase.HEAD);
        }
    }

    void headDecoded() {
        heads++;
        enter(Phase.BODY);
    }

    void bodyRead() {
        if (phase == Phase.BODY) {
            since = now();
        }
    }

    /** The request is complete, or (a refused Expect: 100-continue) abandoned. */
    void requestEnded() {
        enter(Phase.IDLE);
    }

    void responseWritten() {
        responses++;
        if (!waiting()) {
            since = now(); // the clock of whatever the client is doing starts now, not while the app was busy
        }
    }

    private void enter(Phase next) {
        phase = next;
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
            ctx.fireUserEventTriggered(new Expired(phase == Phase.HEAD ? "header" : "body",
                    TimeUnit.NANOSECONDS.toMillis(limit())));
        }
    }

    /** The event loop's clock: the real one, or the one an EmbeddedChannel test moves forward. */
    private long now() {
        return ctx != null ? ctx.executor().ticker().nanoTime() : System.nanoTime();
    }
}
