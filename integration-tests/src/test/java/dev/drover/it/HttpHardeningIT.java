package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile clients against a real master with two workers, on raw sockets: malformed requests get their RFC 9112
 * status and a closed connection, half-sent and idle connections are closed by the timeouts, a worker at
 * drover.http.max-connections stops accepting without resetting anyone, clients that abort mid-body leave no ERROR,
 * and through all of it both workers go on answering normal requests.
 */
class HttpHardeningIT {

    private static final Pattern STATUS = Pattern.compile("^HTTP/1\\.1 (\\d{3}) ");

    /** What a raw exchange saw: everything received, and whether the server closed the connection. */
    record Exchange(String received, boolean closed, long millis) {
        int status() {
            Matcher m = STATUS.matcher(received);
            return m.find() ? Integer.parseInt(m.group(1)) : -1;
        }
    }

    @Test
    @Timeout(120)
    void hostileRequestsAreRefusedTimedOutAndLeaveNoErrors() throws Exception {
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "2", "-b", "127.0.0.1:0",
                "dev.drover.sample.SampleApp"), Map.of("DROVER_HTTP_HEADER_TIMEOUT", "1s",
                "DROVER_HTTP_BODY_TIMEOUT", "1s", "DROVER_HTTP_IDLE_TIMEOUT", "2s", "DROVER_HTTP_MAX_HEADERS", "50"))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            abortMidBody(port, 60);
            String big = "x".repeat(100_000);
            Object[][] cases = {
                {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400},
                {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
                {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
                {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400},
                {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n", 400},
                {"GET / HTTP/1.1\r\nHost: a\r\nNo colon here\r\n\r\n", 400},
                {"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n folded\r\n\r\n", 400},
                {"GET / HTTP/1.1\r\n\r\n", 400},
                {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
                {"GET / HTTP/9.9\r\nHost: a\r\n\r\n", 505},
                {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
                {"BAD-REQUEST-LINE\r\n\r\n", 400},
                {"GET /" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
                {"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + big + "\r\n\r\n", 431},
                {"GET / HTTP/1.1\r\nHost: a\r\n" + "X-A: 1\r\n".repeat(1000) + "\r\n", 431},
                {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n", 413},
            };
            for (Object[] c : cases) {
                Exchange e = exchange(port, (String) c[0]);
                String first = ((String) c[0]).lines().findFirst().orElse("");
                String what = first.substring(0, Math.min(40, first.length())) + "...: " + e.received();
                assertEquals((int) c[1], e.status(), what);
                assertTrue(e.received().toLowerCase().contains("connection: close"), what);
                assertTrue(e.closed() && e.millis() < 900, "the connection is closed at once (not by a 1 s timeout)"
                        + " after " + what + " (" + e.millis() + " ms)");
            }
            assertBothWorkersServe(port);

            Exchange halfSent = exchange(port, "GET / HTTP/1.1\r\nHo");
            assertEquals(408, halfSent.status(), halfSent.received());
            assertTrue(halfSent.closed() && halfSent.millis() >= 900 && halfSent.millis() < 5000, halfSent.toString());

            Exchange slowloris = slowloris(port, 300);
            assertTrue(slowloris.closed() && slowloris.millis() >= 900 && slowloris.millis() < 5000,
                    "a byte every 300 ms does not keep a head alive past header-timeout: " + slowloris);

            Exchange stalledBody = exchange(port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
            assertEquals(408, stalledBody.status(), stalledBody.received());

            Exchange idle = exchange(port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(200, idle.status(), idle.received());
            assertTrue(idle.closed() && idle.millis() >= 1800 && idle.millis() < 6000,
                    "an idle keep-alive connection is closed after idle-timeout: " + idle);

            assertBothWorkersServe(port);
            String log = drover.output();
            assertTrue(!log.contains("ERROR") && !log.contains("\tat ") && !log.contains("Exception"),
                    "clients that abort mid-body or send garbage leave no ERROR and no stack trace:\n" + log);
        }
    }

    @Test
    @Timeout(120)
    void aWorkerAtMaxConnectionsStopsAcceptingAndTheBacklogWaits() throws Exception {
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "2", "-b", "127.0.0.1:0",
                "dev.drover.sample.SampleApp"), Map.of("DROVER_HTTP_MAX_CONNECTIONS", "4"))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            List<Socket> held = new ArrayList<>();
            Socket waiting = null;
            try {
                // Keep-alive connections, each with one answered request, until one is not answered: both workers
                // are at their limit, and that connection waits in the listen backlog.
                while (waiting == null) {
                    assertTrue(held.size() <= 12, "no worker stopped accepting with " + held.size() + " connections");
                    Socket s = new Socket();
                    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                    s.getOutputStream().write(request("/").getBytes(StandardCharsets.US_ASCII));
                    s.setSoTimeout(1500);
                    try {
                        assertEquals("HTTP/1.1 200 OK", readHead(s.getInputStream()).lines().findFirst().orElse(""));
                        held.add(s);
                    } catch (SocketTimeoutException e) {
                        waiting = s;
                    }
                }
                assertTrue(held.size() >= 8, "the workers stopped accepting at 4 connections each, not "
                        + held.size() + " in all");
                drover.awaitLine("connections open, the limit \\(drover.http.max-connections\\): not accepting",
                        Duration.ofSeconds(10));
                held.remove(0).close();
                waiting.setSoTimeout(10_000);
                assertTrue(readHead(waiting.getInputStream()).startsWith("HTTP/1.1 200 OK"),
                        "the waiting connection is served once a worker is below its limit, not reset");
            } finally {
                for (Socket h : held) {
                    h.close();
                }
                if (waiting != null) {
                    waiting.close();
                }
            }
            drover.awaitLine("accepting again: \\d+ connections open", Duration.ofSeconds(10));
            assertBothWorkersServe(port);
        }
    }

    private static String request(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    }

    /** A response's status line and headers, read byte by byte so that nothing of the body is consumed. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after " + head.length() + " bytes of a response head: " + head);
            }
            head.append((char) b);
        }
        return head.toString();
    }

    /** Sends {@code wire} and reads until the server closes the connection (or 8 s pass). */
    private static Exchange exchange(int port, String wire) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(8000);
            long started = System.nanoTime();
            OutputStream out = s.getOutputStream();
            try {
                out.write(wire.getBytes(StandardCharsets.ISO_8859_1));
            } catch (IOException e) {
                // The server may refuse and close before a large request is written whole; read what it said.
            }
            return readToClose(s, started);
        }
    }

    private static Exchange readToClose(Socket s, long started) throws IOException {
        InputStream in = s.getInputStream();
        StringBuilder got = new StringBuilder();
        byte[] buf = new byte[8192];
        boolean closed = false;
        try {
            for (int n = in.read(buf); ; n = in.read(buf)) {
                if (n < 0) {
                    closed = true;
                    break;
                }
                got.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
            }
        } catch (SocketTimeoutException e) {
            // not closed in time
        } catch (IOException e) {
            closed = true; // a reset after the answer: the server closed with unread request bytes
        }
        return new Exchange(got.toString(), closed, (System.nanoTime() - started) / 1_000_000);
    }

    /** Sends a request head one byte every {@code gapMs}, until the server closes the connection. */
    private static Exchange slowloris(int port, long gapMs) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            long started = System.nanoTime();
            byte[] head = "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: abcdefghijklmnopqrstuvwxyz\r\n".getBytes(StandardCharsets.US_ASCII);
            try {
                for (byte b : head) {
                    s.getOutputStream().write(b);
                    Thread.sleep(gapMs); // the client's own pace: what is under test
                    if (System.nanoTime() - started > 10_000_000_000L) {
                        fail("the connection of a slowloris client stayed open for 10 s");
                    }
                }
            } catch (IOException closedOnUs) {
                // expected: the server closed the connection
            }
            s.setSoTimeout(5000);
            return readToClose(s, started);
        }
    }

    /** Clients that send part of a POST body, then close (half of them with a reset). */
    private static void abortMidBody(int port, int clients) throws IOException {
        for (int i = 0; i < clients; i++) {
            Socket s = new Socket();
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            if (i % 2 == 0) {
                s.setSoLinger(true, 0);
            }
            s.getOutputStream().write(("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n"
                    + "x".repeat(5000)).getBytes(StandardCharsets.US_ASCII));
            s.close();
        }
    }

    /** Fresh connections until both workers have answered (the kernel picks the accepting worker). */
    private static void assertBothWorkersServe(int port) throws IOException {
        Set<Long> pids = new HashSet<>();
        for (int i = 0; i < 200 && pids.size() < 2; i++) {
            Http.Response r = Http.get(port, "/");
            assertEquals(200, r.status(), r.body());
            pids.add(r.workerPid());
        }
        assertEquals(2, pids.size(), "both workers answer normal requests");
    }
}
