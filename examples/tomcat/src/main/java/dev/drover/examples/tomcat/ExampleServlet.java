package dev.drover.examples.tomcat;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * The service's endpoints as one servlet: a greeting naming the version and the pid, a slow request, a memory leak
 * and a request that never finishes.
 */
final class ExampleServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    private final String version;

    ExampleServlet(String version) {
        this.version = version;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String body;
        try {
            body = respond(request.getRequestURI(), request);
        } catch (NumberFormatException e) {
            response.sendError(HttpServletResponse.SC_BAD_REQUEST, e.getMessage());
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE, "interrupted");
            return;
        }
        if (body == null) {
            response.sendError(HttpServletResponse.SC_NOT_FOUND);
            return;
        }
        response.setContentType("text/plain;charset=utf-8");
        response.getWriter().write(body);
    }

    /** The body for a path, or null for an unknown one. */
    private String respond(String path, HttpServletRequest request) throws InterruptedException {
        return switch (path) {
            case "/hello" -> "hello from tomcat " + version + " pid " + ProcessHandle.current().pid() + "\n";
            case "/version" -> version + "\n";
            case "/sleep" -> sleep(Long.parseLong(param(request, "ms", "200")));
            case "/leak" -> leak(Integer.parseInt(param(request, "kb", "1024")));
            case "/hang" -> hang();
            default -> null;
        };
    }

    private static String param(HttpServletRequest request, String name, String fallback) {
        String value = request.getParameter(name);
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
