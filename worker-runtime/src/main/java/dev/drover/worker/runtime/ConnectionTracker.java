package dev.drover.worker.runtime;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.GlobalEventExecutor;
import dev.drover.link.RequestTimes;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Counts requests and connections across the worker, and closes connections the HTTP way when draining:
 * the next response on each keep-alive connection carries {@code Connection: close}, idle connections are closed
 * after a short grace, and {@link #onIdle} runs once nothing is open or in flight.
 */
final class ConnectionTracker {

    /**
     * How long an idle keep-alive connection may still send one last request after a drain starts. A client that
     * is actively using the connection sends within microseconds and gets a proper Connection: close answer.
     */
    static final long IDLE_CLOSE_GRACE_MS = 1000;
    /**
     * The least grace an idle connection gets at the memory ceiling (see {@link #ceilingGraceMs}): long enough for a
     * client that is using the connection (its next request follows the last answer within microseconds on a LAN) to
     * have sent it.
     */
    static final long CEILING_CLOSE_GRACE_MS = 20;

    /**
     * The grace of idle connections at a ceiling with {@code deadlineMs}: half of it, from CEILING_CLOSE_GRACE_MS
     * to the drain's IDLE_CLOSE_GRACE_MS. Closing an idle keep-alive connection races a request its client may be
     * sending (it is reset): with a grace, a client that is using the connection sends first and is answered with
     * Connection: close; each connection costs the leak at most that one request more. What no grace covers is a
     * client that sends just as the close happens (MemoryCeilingIT saw one such reset in several runs at 20 ms).
     */
    static long ceilingGraceMs(long deadlineMs) {
        return Math.max(CEILING_CLOSE_GRACE_MS, Math.min(IDLE_CLOSE_GRACE_MS, deadlineMs / 2));
    }

    /** A check this late means the JVM was paused; it is tried again after this long. */
    static final long LATE_MS = 200;

    private static final AttributeKey<Connection> CONNECTION = AttributeKey.valueOf("drover.connection");

    private final ChannelGroup open = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicLong requests = new AtomicLong();
    /** Requests received and not yet answered, on every connection: what the leak evidence names at a ceiling. */
    private final Set<InFlight> inflight = ConcurrentHashMap.newKeySet();
    private volatile boolean draining;
    private volatile long idleGraceMs = IDLE_CLOSE_GRACE_MS;
    /** Taken (set to null) by the one check that finds the worker idle: event loops close connections in parallel. */
    private final AtomicReference<Runnable> onIdle = new AtomicReference<>();
    private final ChannelHandler acceptHandler = new Accepted();
    private long requestLimit;
    /** Durations and status classes for the STATS message (RequestTimes.ENABLED: the cost can be measured). */
    private final RequestTimes times = new RequestTimes();
    private Runnable onLimit = () -> { };

    /**
     * Calls {@code onLimit} once, from an event loop, when the {@code limit}-th request has been answered. Set before
     * the first connection is accepted (registering the listeners publishes it to the event loops).
     */
    void notifyAtRequest(long limit, Runnable onLimit) {
        this.requestLimit = limit;
        this.onLimit = onLimit;
    }

    long requests() {
        return requests.get();
    }

    RequestTimes times() {
        return times;
    }

    int inflight() {
        return inflight.size();
    }

    /** The requests in flight now, oldest first: method, path without its query, age. */
    List<InFlightRequest> inflightRequests() {
        long now = System.nanoTime();
        return inflight.stream().sorted((a, b) -> Long.compare(a.receivedNanos(), b.receivedNanos()))
                .map(r -> r.seen(now)).toList();
    }

    int connections() {
        return open.size();
    }

    boolean draining() {
        return draining;
    }

    /** A new handler for one connection's pipeline, placed after the HTTP codec and aggregator. */
    ChannelHandler newHandler() {
        return new PerConnection();
    }

    /**
     * The handler for each listening channel's pipeline: a connection counts as open from its accept, not from its
     * channelActive. Between the two, the child waits to be registered with an event loop; a drain that found no
     * connection open in that moment would let the worker exit with the just-accepted connection unanswered (the
     * client sees it closed, or reset, before any response byte).
     */
    ChannelHandler acceptHandler() {
        return acceptHandler;
    }

    @ChannelHandler.Sharable
    private final class Accepted extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Channel child) {
                open.add(child); // the group forgets it when it closes, registered or not
            }
            ctx.fireChannelRead(msg);
        }
    }

    /**
     * Starts closing every connection gracefully; {@code whenIdle} runs exactly once when none is left, on the thread
     * that saw the last one close (an event loop) or on the caller's if none is open.
     */
    void drain(Runnable whenIdle) {
        drain(IDLE_CLOSE_GRACE_MS, whenIdle);
    }

    /** {@link #drain(Runnable)} with the grace an idle connection gets for one last request. */
    void drain(long graceMs, Runnable whenIdle) {
        onIdle.set(whenIdle);
        idleGraceMs = graceMs;
        draining = true;
        for (Channel ch : open) {
            if (ch.isRegistered()) { // one still waiting for its event loop is scheduled by its own channelActive
                closeWhenIdle(ch, graceMs);
            }
        }
        checkIdle();
    }

    /**
     * In {@code delayMs}, closes the connection if nothing is in flight on it. If the check runs late (the JVM was
     * paused: a full GC, a stop-the-world safepoint with many threads), requests may have arrived meanwhile that the
     * event loop has not read yet; closing then would reset them. So a late check looks again a little later, after
     * the loop has had its turn at the socket.
     */
    private static void closeWhenIdle(Channel ch, long delayMs) {
        long due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMs);
        ch.eventLoop().schedule(() -> {
            Connection c = ch.attr(CONNECTION).get();
            if (c == null || !ch.isOpen()) {
                return;
            }
            if (System.nanoTime() - due > TimeUnit.MILLISECONDS.toNanos(LATE_MS)) {
                closeWhenIdle(ch, LATE_MS);
            } else if (midRequest(ch)) {
                closeWhenIdle(ch, LATE_MS); // part of a request read: it is answered with Connection: close, then closed
            } else if (c.pending.isEmpty()) {
                ch.close();
            }
        }, delayMs, TimeUnit.MILLISECONDS);
    }

    /** Whether the codec holds part of a request not yet passed on (a head still arriving, a body under way). */
    private static boolean midRequest(Channel ch) {
        ServerCodec codec = ch.pipeline().get(ServerCodec.class);
        return codec != null && codec.midRequest();
    }

    private void checkIdle() {
        if (draining && open.isEmpty() && inflight.isEmpty()) {
            Runnable r = onIdle.getAndSet(null);
            if (r != null) {
                r.run();
            }
        }
    }

    /** Per-connection state: one keep-alive decision per request received and not yet answered (pipelining). */
    private static final class Connection {
        final ArrayDeque<InFlight> pending = new ArrayDeque<>();
        /** The status of the response being written. */
        int status;
    }

    /**
     * One request received and not yet answered. Its path is kept without the query string, which may hold secrets
     * (tokens, keys) that have no place in a leak report.
     */
    static final class InFlight { // not a record: two alike requests in flight are two entries of the set
        private final boolean keepAlive;
        private final String method;
        private final String uri;
        private final long receivedNanos;

        InFlight(boolean keepAlive, String method, String uri, long receivedNanos) {
            this.keepAlive = keepAlive;
            this.method = method;
            this.uri = uri;
            this.receivedNanos = receivedNanos;
        }

        boolean keepAlive() {
            return keepAlive;
        }

        long receivedNanos() {
            return receivedNanos;
        }

        InFlightRequest seen(long now) {
            return new InFlightRequest(method, InFlightRequest.pathOf(uri),
                    TimeUnit.NANOSECONDS.toMillis(now - receivedNanos));
        }
    }

    private final class PerConnection extends ChannelDuplexHandler {
        private final Connection c = new Connection();

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.channel().attr(CONNECTION).set(c);
            open.add(ctx.channel());
            if (draining) {
                // Accepted just before the listener closed: serve what it sends, then close.
                closeWhenIdle(ctx.channel(), idleGraceMs);
            }
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof FullHttpRequest request) {
                InFlight received = new InFlight(HttpUtil.isKeepAlive(request), request.method().name(),
                        request.uri(), System.nanoTime());
                c.pending.add(received);
                inflight.add(received);
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof HttpResponse response && !c.pending.isEmpty()) {
                HttpUtil.setKeepAlive(response, c.pending.peek().keepAlive() && !draining);
                c.status = response.status().code();
            }
            if (msg instanceof LastHttpContent && !c.pending.isEmpty()) {
                InFlight request = c.pending.poll();
                boolean keepAlive = request.keepAlive() && !draining;
                promise = promise.unvoid();
                int status = c.status;
                promise.addListener(f -> answered(request, status));
                ctx.write(msg, promise);
                if (!keepAlive) {
                    promise.addListener(ChannelFutureListener.CLOSE);
                }
                return;
            }
            ctx.write(msg, promise);
        }

        private void answered(InFlight request, int status) {
            if (RequestTimes.ENABLED) {
                times.record(System.nanoTime() - request.receivedNanos(), status);
            }
            inflight.remove(request);
            if (requests.incrementAndGet() == requestLimit) {
                onLimit.run();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            // Requests the client abandoned will never be answered: they are no longer in flight.
            c.pending.forEach(inflight::remove);
            c.pending.clear();
            open.remove(ctx.channel());
            checkIdle();
            ctx.fireChannelInactive();
        }
    }
}
