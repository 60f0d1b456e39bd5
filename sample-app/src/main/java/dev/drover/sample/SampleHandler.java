package dev.drover.sample;

import dev.drover.worker.api.WorkerContext;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Routes the sample service's requests; one instance per connection. */
final class SampleHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    /** Largest /sleep and /leak arguments, so that a typo cannot take a worker down by accident. */
    static final long MAX_SLEEP_MS = 600_000;
    static final long MAX_LEAK_KB = 1_048_576;
    /** Largest /leak-threads and /leak-classes count per request. */
    static final long MAX_LEAK_COUNT = 10_000;
    /** Largest /print count per request. */
    static final long MAX_PRINT_LINES = 1_000_000;

    private final WorkerContext context;
    private final String greeting;

    SampleHandler(WorkerContext context, String greeting) {
        this.context = context;
        this.greeting = greeting;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request)
            throws InterruptedException, java.io.IOException {
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        if (request.method() != HttpMethod.GET) {
            respond(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET is served\n");
            return;
        }
        switch (uri.path()) {
            case "/" -> respond(ctx, HttpResponseStatus.OK, greeting + " from worker " + context.workerId()
                    + " (pid " + context.pid() + ", gen " + context.generation() + ")\n");
            case "/sleep" -> sleep(ctx, uri);
            case "/leak" -> leak(ctx, uri);
            case "/leak-threads" -> {
                Long n = number(ctx, uri, "n", MAX_LEAK_COUNT);
                if (n != null) {
                    respond(ctx, HttpResponseStatus.OK, "leaked " + n + " thread(s); " + PlantedLeaks.leakThreads(n.intValue())
                            + " so far in worker " + context.workerId() + "\n");
                }
            }
            case "/leak-direct" -> {
                Long kb = number(ctx, uri, "kb", MAX_LEAK_KB);
                if (kb != null) {
                    respond(ctx, HttpResponseStatus.OK, "leaked " + kb + " KiB of direct buffers; "
                            + (PlantedLeaks.leakDirect(kb.intValue()) >> 10) + " KiB so far in worker " + context.workerId() + "\n");
                }
            }
            case "/leak-classes" -> {
                Long n = number(ctx, uri, "n", MAX_LEAK_COUNT);
                if (n != null) {
                    respond(ctx, HttpResponseStatus.OK, "leaked " + n + " class(es) in loaders of their own; "
                            + PlantedLeaks.leakClasses(n.intValue()) + " so far in worker " + context.workerId() + "\n");
                }
            }
            case "/print" -> {
                Long n = number(ctx, uri, "lines", MAX_PRINT_LINES);
                if (n != null) { // an app that prints a lot: System.out, as any app's println would
                    for (long i = 1; i <= n; i++) {
                        System.out.println("print " + i + " of " + n + " from worker " + context.workerId());
                    }
                    respond(ctx, HttpResponseStatus.OK, "printed " + n + " line(s) in worker " + context.workerId() + "\n");
                }
            }
            case "/orphan" -> orphan(ctx, uri);
            case "/fail" -> throw new IllegalStateException("/fail: the sample app fails on purpose");
            case "/hang" -> new CountDownLatch(1).await(); // blocks this event loop for good: a stuck worker
            case "/crash" -> Runtime.getRuntime().halt(70); // dies at once, mid-request, like a JVM crash
            default -> respond(ctx, HttpResponseStatus.NOT_FOUND, "no such path: " + uri.path() + "\n");
        }
    }

    private void sleep(ChannelHandlerContext ctx, QueryStringDecoder uri) {
        Long ms = number(ctx, uri, "ms", MAX_SLEEP_MS);
        if (ms != null) {
            // Scheduled on the event loop, not slept on it: other connections on this loop go on being served.
            ctx.executor().schedule(() -> respond(ctx, HttpResponseStatus.OK, "slept " + ms + " ms in worker "
                    + context.workerId() + "\n"), ms, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Leaves an orphan, as apps that shell out sometimes do: a shell starts `sleep` in the background and exits at
     * once, so the sleep's parent is gone and the kernel re-parents it (to the nearest subreaper, or PID 1).
     */
    private void orphan(ChannelHandlerContext ctx, QueryStringDecoder uri) throws InterruptedException,
            java.io.IOException {
        Long ms = number(ctx, uri, "ms", MAX_SLEEP_MS);
        if (ms != null) {
            Process shell = new ProcessBuilder("sh", "-c", "sleep " + ms / 1000.0 + " </dev/null >/dev/null 2>&1 & "
                    + "echo $!").redirectErrorStream(true).start();
            String pid = new String(shell.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            shell.waitFor();
            respond(ctx, HttpResponseStatus.OK, "orphaned pid " + pid + " (sleeps " + ms + " ms) in worker "
                    + context.workerId() + "\n");
        }
    }

    /**
     * {@code worker=ID}: only the worker with that id leaks, the others answer without leaking (a test of one leaking
     * worker); {@code hold_ms=N}: the answer comes N ms after the leak, so that the request stays in flight.
     */
    private void leak(ChannelHandlerContext ctx, QueryStringDecoder uri) {
        Long kb = number(ctx, uri, "kb", MAX_LEAK_KB);
        Long holdMs = uri.parameters().containsKey("hold_ms") ? number(ctx, uri, "hold_ms", MAX_SLEEP_MS) : Long.valueOf(0);
        if (kb == null || holdMs == null) {
            return;
        }
        List<String> only = uri.parameters().get("worker");
        if (only != null && !only.get(0).equals(Integer.toString(context.workerId()))) {
            respond(ctx, HttpResponseStatus.OK, "leaked nothing: only worker " + only.get(0) + " leaks, this is worker "
                    + context.workerId() + "\n");
            return;
        }
        long total = LeakyCache.retain(kb.intValue());
        String body = "leaked " + kb + " KiB more; " + (total >> 10) + " KiB retained in worker " + context.workerId()
                + "\n";
        if (holdMs == 0) {
            respond(ctx, HttpResponseStatus.OK, body);
        } else {
            ctx.executor().schedule(() -> respond(ctx, HttpResponseStatus.OK, body), holdMs, TimeUnit.MILLISECONDS);
        }
    }

    /** The query parameter as a number in 0..max, or null after answering 400. */
    private Long number(ChannelHandlerContext ctx, QueryStringDecoder uri, String name, long max) {
        List<String> values = uri.parameters().get(name);
        try {
            long value = Long.parseLong(values == null ? "" : values.get(0));
            if (value >= 0 && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        respond(ctx, HttpResponseStatus.BAD_REQUEST, name + ": " + values + " (expected: a whole number in 0.."
                + max + ")\n");
        return null;
    }

    private void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        response.headers().set("X-Worker-Pid", context.pid());
        response.headers().set("X-Worker-Id", context.workerId());
        ctx.writeAndFlush(response);
    }
}
