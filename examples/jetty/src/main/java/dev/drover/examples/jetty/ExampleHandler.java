package dev.drover.examples.jetty;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

/**
 * The service's endpoints on Jetty's core API: a greeting naming the version and the pid, a slow request, a memory
 * leak and a request that never finishes. Blocking on purpose (Handler.Abstract is a blocking handler), as an
 * ordinary app's code is.
 */
final class ExampleHandler extends Handler.Abstract {

    private final String version;

    ExampleHandler(String version) {
        this.version = version;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        Fields query = Request.extractQueryParameters(request);
        String body;
        try {
            body = respond(Request.getPathInContext(request), query);
        } catch (NumberFormatException e) {
            Response.writeError(request, response, callback, HttpStatus.BAD_REQUEST_400, e.getMessage());
            return true;
        }
        if (body == null) {
            Response.writeError(request, response, callback, HttpStatus.NOT_FOUND_404);
            return true;
        }
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain;charset=utf-8");
        Content.Sink.write(response, true, body, callback);
        return true;
    }

    /** The body for a path, or null for an unknown one. */
    private String respond(String path, Fields query) throws InterruptedException {
        return switch (path) {
            case "/hello" -> "hello from jetty " + version + " pid " + ProcessHandle.current().pid() + "\n";
            case "/version" -> version + "\n";
            case "/sleep" -> sleep(Long.parseLong(param(query, "ms", "200")));
            case "/leak" -> leak(Integer.parseInt(param(query, "kb", "1024")));
            case "/hang" -> hang();
            default -> null;
        };
    }

    private static String param(Fields query, String name, String fallback) {
        String value = query.getValue(name);
        return value == null ? fallback : value;
    }

    private static String sleep(long ms) throws InterruptedException {
        Thread.sleep(ms);
        return "slept " + ms + " ms\n";
    }

    private static String leak(int kb) {
        return "leaked " + kb + " KiB, " + LeakedOrder.leak(kb) + " KiB held\n";
    }

    /** A stuck request: holds its thread until the thread is interrupted, which only a shutdown does. */
    private static String hang() {
        try {
            Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "interrupted\n";
    }
}
