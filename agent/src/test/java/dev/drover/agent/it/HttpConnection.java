package dev.drover.agent.it;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A bare HTTP/1.1 client connection with keep-alive and no retries: a request the server drops is an IOException
 * here, never hidden (the JDK's client may retry an idempotent request on a closed keep-alive connection).
 */
final class HttpConnection implements Closeable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private boolean serverCloses;

    HttpConnection(int port, int readTimeoutMillis) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
        socket.setSoTimeout(readTimeoutMillis);
        socket.setTcpNoDelay(true);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    record Response(int status, String body) {
    }

    /** Sends the request without waiting for the answer. */
    void send(String path) throws IOException {
        out.write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    Response get(String path) throws IOException {
        send(path);
        return read();
    }

    Response read() throws IOException {
        String status = line();
        int length = -1;
        boolean chunked = false;
        for (String header = line(); !header.isEmpty(); header = line()) {
            String lower = header.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) {
                length = Integer.parseInt(lower.substring(15).trim());
            } else if (lower.startsWith("transfer-encoding:") && lower.endsWith("chunked")) {
                chunked = true;
            } else if (lower.startsWith("connection:") && lower.contains("close")) {
                serverCloses = true;
            }
        }
        if (length < 0 && !chunked) {
            throw new IOException("neither Content-Length nor chunked in the answer: " + status);
        }
        String body = new String(chunked ? chunks() : in.readNBytes(length), StandardCharsets.UTF_8);
        return new Response(Integer.parseInt(status.split(" ")[1]), body);
    }

    private byte[] chunks() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (int size = Integer.parseInt(line().trim(), 16); size > 0; size = Integer.parseInt(line().trim(), 16)) {
            body.write(in.readNBytes(size));
            line();
        }
        line(); // no trailers: the empty line that ends the answer
        return body.toByteArray();
    }

    /** The last answer said Connection: close. */
    boolean serverCloses() {
        return serverCloses;
    }

    private String line() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new EOFException("the server closed the connection (read so far: '" + line + "')");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
