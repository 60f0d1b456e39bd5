package dev.drover.it;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A minimal HTTP/1.1 client over a raw socket (TCP or Unix), so that tests see exactly what happens on the wire:
 * a reset is a reset, a close is a close, and nothing is retried behind their back.
 */
final class Http implements AutoCloseable {

    record Response(int status, Map<String, String> headers, String body) {
        private static final Pattern BODY_PID = Pattern.compile("^hello from .* pid (\\d+)\\s*$");

        /**
         * The answering worker: Drover's native workers name it in X-Worker-Pid; an app that knows nothing of Drover
         * (examples/) says it in its body, "hello from NAME VERSION pid N". -1 when neither does.
         */
        long workerPid() {
            String header = headers.get("x-worker-pid");
            if (header != null) {
                return Long.parseLong(header);
            }
            Matcher m = BODY_PID.matcher(body);
            return m.find() ? Long.parseLong(m.group(1)) : -1;
        }

        boolean closes() {
            return "close".equalsIgnoreCase(headers.get("connection"));
        }
    }

    static final int TIMEOUT_MS = 60_000;

    private final Socket tcp;
    private final SocketChannel unix;
    private final InputStream in;
    private final OutputStream out;

    private Http(SocketAddress address) throws IOException {
        if (address instanceof UnixDomainSocketAddress) {
            tcp = null;
            unix = SocketChannel.open(StandardProtocolFamily.UNIX);
            unix.connect(address);
            in = new BufferedInputStream(Channels.newInputStream(unix));
            out = Channels.newOutputStream(unix);
        } else {
            unix = null;
            tcp = new Socket();
            tcp.connect(address, TIMEOUT_MS);
            tcp.setSoTimeout(TIMEOUT_MS);
            tcp.setTcpNoDelay(true);
            in = new BufferedInputStream(tcp.getInputStream());
            out = tcp.getOutputStream();
        }
    }

    static Http connect(SocketAddress address) throws IOException {
        return new Http(address);
    }

    static Http connect(int port) throws IOException {
        return new Http(new InetSocketAddress("127.0.0.1", port));
    }

    /** One request on a fresh connection, closed afterwards. */
    static Response get(int port, String path) throws IOException {
        try (Http http = connect(port)) {
            return http.send(path, false);
        }
    }

    Response send(String path, boolean keepAlive) throws IOException {
        out.write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + (keepAlive ? "" : "Connection: close\r\n")
                + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return read();
    }

    private Response read() throws IOException {
        String statusLine = line();
        if (statusLine == null) {
            throw new IOException("connection closed before any response byte");
        }
        String[] parts = statusLine.split(" ", 3);
        Map<String, String> headers = new HashMap<>();
        for (String line = line(); line != null && !line.isEmpty(); line = line()) {
            int colon = line.indexOf(':');
            headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
        }
        int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
        byte[] body = in.readNBytes(length);
        if (body.length < length) {
            throw new IOException("connection closed after " + body.length + " of " + length + " body bytes");
        }
        return new Response(Integer.parseInt(parts[1]), headers, new String(body, StandardCharsets.UTF_8));
    }

    private String line() throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        for (int b = in.read(); b != -1; b = in.read()) {
            if (b == '\n') {
                String s = buf.toString(StandardCharsets.US_ASCII);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            buf.write(b);
        }
        if (buf.size() > 0) {
            throw new IOException("connection closed in the middle of a header line");
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        if (tcp != null) {
            tcp.close();
        } else {
            unix.close();
        }
    }
}
