package dev.drover.worker.runtime;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.unix.Errors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * A listening socket's answer to running out of file descriptors (EMFILE, or ENFILE for the whole system) when it
 * accepts: it stops accepting for a second and tries again, while the connections it has are served as usual. The
 * connections that wait meanwhile stay in the shared backlog, where a worker with descriptors to spare takes them.
 * One WARN per episode (an episode ends at the next accepted connection), never a stack trace per attempt.
 * Sits first in each listening channel's pipeline; Netty's own ServerBootstrapAcceptor would pause the same way but
 * then pass the exception to the pipeline's tail, which logs it with a stack trace at every retry.
 */
@ChannelHandler.Sharable
final class AcceptBackoff extends ChannelInboundHandlerAdapter {

    private static final LazyLogging.Log log = LazyLogging.Log.of(AcceptBackoff.class);
    /** Linux errno values, negated as Netty reports them. */
    private static final int EMFILE = -24;
    private static final int ENFILE = -23;
    static final long RETRY_MS = 1000;

    private final IntSupplier connections;
    /** ConnectionLimit's say: a retry must not resume accepting on a worker that is at its connection limit. */
    private final BooleanSupplier belowConnectionLimit;
    /** Read while descriptors are still to be had: at EMFILE, neither /proc nor the management library can be opened. */
    private final String limit = readLimit();
    /** When the current episode began (System.nanoTime), 0 outside one; touched on event loops only, hence volatile. */
    private volatile long episodeSince;
    /** Accept attempts that failed in the current episode (each followed by a pause of RETRY_MS). */
    private final AtomicInteger failedAttempts = new AtomicInteger();

    AcceptBackoff(IntSupplier connections, BooleanSupplier belowConnectionLimit) {
        this.connections = connections;
        this.belowConnectionLimit = belowConnectionLimit;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object child) {
        long since = episodeSince;
        if (since != 0) {
            episodeSince = 0;
            log.info("accepting connections again, after {} s and {} failed attempt(s) without a free file descriptor",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since) / 1000.0, failedAttempts.getAndSet(0));
        }
        ctx.fireChannelRead(child);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof Errors.NativeIoException e)
                || (e.expectedErr() != EMFILE && e.expectedErr() != ENFILE)) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        if (episodeSince == 0) {
            episodeSince = System.nanoTime();
            log.warn("cannot accept connections: {} ({}); this worker keeps serving its {} open connection(s) and tries "
                    + "again every {} ms. Raise the limit (ulimit -n, or LimitNOFILE= for a systemd service; the master"
                    + " raises the soft limit to the hard one) or lower the connection limits of the http settings",
                    e.expectedErr() == EMFILE ? "too many open files" : "too many open files in the system",
                    e.expectedErr() == EMFILE ? "open-file limit " + limit : "the kernel's fs.file-max",
                    connections.getAsInt(), RETRY_MS);
        }
        failedAttempts.incrementAndGet(); // shared by every listening channel, each on its own event loop
        ctx.channel().config().setAutoRead(false);
        ctx.channel().eventLoop().schedule(() -> {
            if (belowConnectionLimit.getAsBoolean()) {
                ctx.channel().config().setAutoRead(true); // else ConnectionLimit resumes once a connection closes
            }
        }, RETRY_MS, TimeUnit.MILLISECONDS);
    }

    /** The soft RLIMIT_NOFILE, from the "Max open files" row of /proc/self/limits. */
    private static String readLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    return line.substring("Max open files".length()).trim().split("\\s+")[0];
                }
            }
        } catch (IOException | RuntimeException e) {
            // said as "unknown" in the warning
        }
        return "unknown";
    }
}
