package dev.drover.worker.runtime;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * drover.http.max-connections: at the limit the worker stops accepting (auto-read off on its listening sockets)
 * until a connection closes. New connections then wait in the kernel's backlog, where the other workers, which
 * share the listening socket, accept them. Said once per episode: an episode ends when the count has fallen a tenth
 * below the limit, so that a worker hovering at the limit does not log every connection.
 */
@ChannelHandler.Sharable
final class ConnectionLimit extends ChannelInboundHandlerAdapter {

    private static final LazyLogging.Log log = LazyLogging.Log.of(ConnectionLimit.class);

    private final int max;
    private final List<Channel> listeners;
    private final AtomicInteger open = new AtomicInteger();
    private volatile boolean paused;
    /** Written under the lock; read without it only to decide whether to take it. */
    private volatile boolean inEpisode;
    /** Guarded by this. */
    private long episodeStarted;
    private int pauses;

    ConnectionLimit(int max, List<Channel> listeners) {
        this.max = max;
        this.listeners = listeners;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (open.incrementAndGet() >= max) {
            update();
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        open.decrementAndGet();
        if (paused || inEpisode) {
            update();
        }
        ctx.fireChannelInactive();
    }

    int open() {
        return open.get();
    }

    /** Whether accepting is allowed as far as this limit goes (AcceptBackoff asks before it resumes accepting). */
    boolean belowLimit() {
        return !paused;
    }

    /** Connections open and close on every event loop: the decision is made under the lock, on the count now. */
    private synchronized void update() {
        int now = open.get();
        boolean full = now >= max;
        if (full != paused) {
            paused = full;
            for (Channel listener : listeners) {
                listener.config().setAutoRead(!full);
            }
            pauses += full ? 1 : 0;
        }
        if (full && !inEpisode) {
            inEpisode = true;
            episodeStarted = System.nanoTime();
            log.warn("{} connections open, the limit (drover.http.max-connections): not accepting until one closes;"
                    + " new connections wait in the listen backlog for another worker", now);
        } else if (inEpisode && now < max - Math.max(1, max / 10)) {
            inEpisode = false;
            log.info("accepting again: {} connections open (the limit was reached {} time(s) in the last {} s)", now,
                    pauses, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - episodeStarted));
            pauses = 0;
        }
    }
}
