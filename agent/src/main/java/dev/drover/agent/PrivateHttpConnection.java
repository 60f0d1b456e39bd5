package dev.drover.agent;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One HTTP/1.1 connection of the warm-up to the app's server, over a private loopback listener that is not the shared
 * socket: the client end is a blocking socket here, the server end is handed to the server as if its acceptor had
 * accepted it. Sends a request, reads its whole answer (Content-Length, chunked, or until the server closes), and
 * says whether the connection can carry the next one.
 */
final class PrivateHttpConnection implements AutoCloseable {
    private final Socket client;
    private final InputStream in;
    private final OutputStream out;
    private boolean reusable = true;
    private int answered;

    private PrivateHttpConnection(Socket client) throws IOException {
        this.client = client;
        this.in = new BufferedInputStream(client.getInputStream());
        this.out = client.getOutputStream();
    }

    /** Connects to {@code listener}, accepts the server end and gives it to {@code server}. */
    static PrivateHttpConnection open(ServerSocketChannel listener, DrivenConnector server) throws IOException {
        SocketAddress address = listener.getLocalAddress();
        Socket client = new Socket();
        try {
            client.setTcpNoDelay(true);
            client.connect(address, 1000); // completes in the listener's backlog: accept() below does not wait
            SocketChannel accepted = listener.accept();
            try {
                server.serve(accepted);
            } catch (IOException | RuntimeException e) {
                accepted.close();
                throw e;
            }
            return new PrivateHttpConnection(client);
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /** Whether the last answer left the connection open for another request (keep-alive). */
    boolean reusable() {
        return reusable && !client.isClosed();
    }

    /** How many answers this connection has carried. */
    int answered() {
        return answered;
    }

    /**
     * Sends {@code method path} and reads the whole answer, waiting at most {@code waitMillis} for each read.
     *
     * @return the status code
     * @throws java.net.SocketTimeoutException when the answer does not come in time
     * @throws EOFException when the server closed the connection before a whole answer
     */
    int exchange(String method, String path, int waitMillis) throws IOException {
        client.setSoTimeout(Math.max(1, waitMillis));
        out.write((method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: drover-warmup\r\n"
                + "Content-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        int status;
        do { // past interim answers (100 Continue): the real one follows them
            status = readAnswer(method);
        } while (status >= 100 && status < 200 && status != 101);
        answered++;
        return status;
    }

    /** Reads one answer's status line and headers, then its body; returns the status. */
    private int readAnswer(String method) throws IOException {
        String statusLine = line();
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP/1.x answer: \"" + statusLine + "\"");
        }
        int status = Integer.parseInt(parts[1]);
        long length = -1;
        boolean chunked = false;
        boolean close = parts[0].equals("HTTP/1.0");
        for (String header = line(); !header.isEmpty(); header = line()) {
            int colon = header.indexOf(':');
            String name = colon < 0 ? header : header.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = colon < 0 ? "" : header.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
            switch (name) {
                case "content-length" -> length = Long.parseLong(value);
                case "transfer-encoding" -> chunked = value.endsWith("chunked");
                case "connection" -> close |= value.contains("close");
                default -> { }
            }
        }
        readBody(method, status, chunked, length);
        reusable &= !close && (chunked || length >= 0 || !hasBody(method, status));
        return status;
    }

    private void readBody(String method, int status, boolean chunked, long length) throws IOException {
        if (!hasBody(method, status)) {
            return;
        }
        if (chunked) {
            for (long size = chunkSize(line()); size > 0; size = chunkSize(line())) {
                skip(size);
                line(); // the CRLF after the chunk's data
            }
            for (String trailer = line(); !trailer.isEmpty(); trailer = line()) {
                // trailers: nothing to keep
            }
        } else if (length >= 0) {
            skip(length);
        } else {
            in.transferTo(OutputStream.nullOutputStream()); // delimited by the server closing the connection
            reusable = false;
        }
    }

    private static boolean hasBody(String method, int status) {
        return !method.equals("HEAD") && status != 204 && status != 304 && (status < 100 || status >= 200);
    }

    private static long chunkSize(String line) throws IOException {
        int extension = line.indexOf(';');
        try {
            return Long.parseLong((extension < 0 ? line : line.substring(0, extension)).trim(), 16);
        } catch (NumberFormatException e) {
            throw new IOException("not a chunk size: \"" + line + "\"");
        }
    }

    private void skip(long count) throws IOException {
        for (long left = count; left > 0; ) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new EOFException("the server closed the connection " + left + " byte(s) before the end"
                            + " of the answer");
                }
                skipped = 1;
            }
            left -= skipped;
        }
    }

    /** One CRLF-ended line (a bare LF is taken too), without its end. */
    private String line() throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("the server closed the connection"
                        + (line.length() == 0 ? "" : " in the middle of a line"));
            }
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    @Override
    public void close() throws IOException {
        client.close();
    }
}
