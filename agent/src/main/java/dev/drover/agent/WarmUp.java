package dev.drover.agent;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The warm-up of a foreign worker: before the accept gate opens, requests run through the app's real server (its
 * parser, its filters, the app's handlers) over private loopback connections that never touch the shared socket, so
 * that the JIT has compiled the hot path before the worker takes traffic. One request at a time on a keep-alive
 * connection, a new one whenever the server closes it (Tomcat does after maxKeepAliveRequests): the server's accept
 * and connection set-up paths get warm too, but the time goes to requests, which is what real traffic brings most of.
 */
final class WarmUp {
    /**
     * The longest wait for one answer. Longer than the native worker's: a servlet container starts parts of the app
     * at its first request (Spring's DispatcherServlet, for one), which takes more than a second on a loaded machine.
     */
    static final long ANSWER_WAIT_MS = 5000;

    private final DrivenConnector server;
    private final int count;
    private final List<String> requests;
    private final long timeLimitMs;
    private int sent;
    private int ok;
    private int other;
    private PrivateHttpConnection connection;

    WarmUp(DrivenConnector server, int count, List<String> requests, long timeLimitMs) {
        this.server = server;
        this.count = count;
        this.requests = requests;
        this.timeLimitMs = timeLimitMs;
    }

    WarmUpReport run() {
        String unsupported = server.privateConnectionsUnsupported();
        if (unsupported != null) {
            return WarmUpReport.skipped(unsupported);
        }
        long started = System.nanoTime();
        String stopped;
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
            stopped = runOn(listener, started + TimeUnit.MILLISECONDS.toNanos(timeLimitMs));
        } catch (IOException e) {
            stopped = "the private listener failed: " + e;
        }
        return new WarmUpReport(sent, ok, other, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), stopped,
                "");
    }

    /** Sends the requests in turn until the count or the deadline; returns why it stopped early, or "". */
    private String runOn(ServerSocketChannel listener, long deadline) {
        int waitMillis = 0;
        try {
            for (; sent < count; sent++) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return "drover.warmup.time-limit (" + timeLimitMs + " ms) reached";
                }
                waitMillis = (int) Math.min(left, ANSWER_WAIT_MS);
                tally(exchange(listener, current(), waitMillis));
            }
            return "";
        } catch (SocketTimeoutException e) {
            String request = current();
            sent++; // sent, if not answered
            return waitMillis < ANSWER_WAIT_MS // the wait was cut short by the time limit
                    ? "drover.warmup.time-limit (" + timeLimitMs + " ms) reached waiting for an answer to " + request
                    : "no answer within " + waitMillis + " ms to " + request;
        } catch (IOException | RuntimeException e) {
            String request = current();
            sent++;
            return request + " failed: " + e.getMessage();
        } finally {
            close();
        }
    }

    private String current() {
        return requests.get(sent % requests.size());
    }

    /**
     * One exchange, on the kept-alive connection or a new one. A kept-alive connection the server closed before
     * answering (its keep-alive timeout, say: the request then meets an end of stream or a reset) is replaced once,
     * as any HTTP client does.
     */
    private int exchange(ServerSocketChannel listener, String request, int waitMillis) throws IOException {
        String[] parts = request.split(" ", 2);
        if (connection == null || !connection.reusable()) {
            close();
            connection = PrivateHttpConnection.open(listener, server);
        }
        try {
            return connection.exchange(parts[0], parts[1], waitMillis);
        } catch (EOFException | SocketException e) { // closed, reset or a broken pipe; a time-out is neither
            if (connection.answered() == 0) {
                throw e;
            }
            close();
            connection = PrivateHttpConnection.open(listener, server);
            return connection.exchange(parts[0], parts[1], waitMillis);
        }
    }

    private void tally(int status) {
        if (status >= 200 && status < 300) {
            ok++;
        } else {
            other++;
        }
    }

    private void close() {
        if (connection != null) {
            try {
                connection.close();
            } catch (IOException e) {
                // the warm-up is done with it either way
            }
            connection = null;
        }
    }
}
