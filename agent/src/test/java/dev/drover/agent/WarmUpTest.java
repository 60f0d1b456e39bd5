package dev.drover.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The warm-up's client side against a scripted stand-in server (answers by request path): it reads each whole
 * answer however it is framed, keeps a connection alive only while the server lets it, and stops early as it says.
 */
class WarmUpTest {

    @Test
    @Timeout(10)
    void readsEveryFramingAndReconnectsOnlyWhenTheServerCloses() {
        ScriptedServer server = new ScriptedServer(path -> switch (path) {
            case "/length" -> "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
            case "/chunked" -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nX-Trailer: t\r\n\r\n";
            case "/empty" -> "HTTP/1.1 204 No Content\r\n\r\n";
            case "/continue" -> "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
            case "/head" -> "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"; // as for a GET, without the body
            case "/close" -> "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok";
            default -> "HTTP/1.1 500 Oops\r\n\r\nuntil the server closes";
        });
        WarmUpReport report = new WarmUp(server, 7, List.of("GET /length", "GET /chunked", "GET /empty",
                "GET /continue", "GET /close", "HEAD /head", "GET /unframed"), 5000).run();
        assertEquals(new WarmUpReport(7, 5, 2, report.millis(), "", ""), report);
        // A new connection after Connection: close and after an answer that only the close could end; else one.
        assertEquals(List.of(List.of("/length", "/chunked", "/empty", "/continue", "/close"),
                List.of("/head", "/unframed")), server.pathsByConnection());
    }

    @Test
    @Timeout(10)
    void aKeptAliveConnectionTheServerClosedIsReplacedOnce() {
        ScriptedServer server = new ScriptedServer(path -> "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        server.closeAfterEachAnswer = true; // as an idle timeout would, without saying Connection: close
        WarmUpReport report = new WarmUp(server, 3, List.of("GET /a"), 5000).run();
        assertEquals(new WarmUpReport(3, 3, 0, report.millis(), "", ""), report);
        assertEquals(3, server.pathsByConnection().size());
    }

    @Test
    @Timeout(10)
    void stopsAtAnAnswerThatNeverComesAndAtTheTimeLimit() {
        ScriptedServer silent = new ScriptedServer(path -> null);
        assertEquals("drover.warmup.time-limit (300 ms) reached waiting for an answer to GET /hang",
                new WarmUp(silent, 5, List.of("GET /hang"), 300).run().stoppedBecause());
        ScriptedServer closing = new ScriptedServer(path -> "");
        assertEquals("GET /x failed: the server closed the connection",
                new WarmUp(closing, 5, List.of("GET /x"), 5000).run().stoppedBecause());
    }

    @Test
    @Timeout(10)
    void aServerWithoutThePrivateConnectionPathIsSkipped() {
        ScriptedServer old = new ScriptedServer(path -> "");
        old.unsupported = "Tomcat 9.0.0 has no method NioEndpoint.setSocketOptions(1 parameters)";
        assertEquals(WarmUpReport.skipped(old.unsupported), new WarmUp(old, 5, List.of("GET /"), 5000).run());
        assertEquals(List.of(), old.pathsByConnection());
    }

    /** Answers each request line's path with a script's bytes (null: never answers); records paths by connection. */
    private static final class ScriptedServer implements DrivenConnector {
        private final Function<String, String> script;
        private final List<List<String>> paths = Collections.synchronizedList(new ArrayList<>());
        volatile boolean closeAfterEachAnswer;
        String unsupported;

        ScriptedServer(Function<String, String> script) {
            this.script = script;
        }

        List<List<String>> pathsByConnection() {
            synchronized (paths) {
                return paths.stream().map(List::copyOf).toList();
            }
        }

        @Override
        public String privateConnectionsUnsupported() {
            return unsupported;
        }

        @Override
        public void serve(SocketChannel accepted) {
            List<String> seen = Collections.synchronizedList(new ArrayList<>());
            paths.add(seen);
            Thread thread = new Thread(() -> converse(accepted.socket(), seen), "scripted-server");
            thread.setDaemon(true);
            thread.start();
        }

        private void converse(Socket socket, List<String> seen) {
            try (socket; InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream()) {
                for (String head = head(in); head != null; head = head(in)) {
                    String path = head.split(" ")[1];
                    seen.add(path);
                    String answer = script.apply(path);
                    if (answer == null) {
                        in.transferTo(OutputStream.nullOutputStream()); // until the client gives up
                        return;
                    }
                    out.write(answer.getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    if (answer.isEmpty() || closeAfterEachAnswer || answer.contains("Connection: close")
                            || !answer.contains("Content-Length") && !answer.contains("chunked")
                            && !answer.startsWith("HTTP/1.1 204")) {
                        return;
                    }
                }
            } catch (IOException e) {
                // the client closed: the conversation is over
            }
        }

        /** The request's head (line and headers); null at the end of the connection. */
        private static String head(InputStream in) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int matched = 0;
            for (int b = in.read(); b >= 0; b = in.read()) {
                head.write(b);
                matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
                if (matched == 4) {
                    return head.toString(StandardCharsets.US_ASCII);
                }
            }
            return null;
        }

        @Override
        public String server() {
            return "a scripted server";
        }

        @Override
        public int configuredPort() {
            return 0;
        }

        @Override
        public void adoptInheritedChannel() {
        }

        @Override
        public void verifyAdopted() {
        }

        @Override
        public int connections() {
            return -1;
        }

        @Override
        public void stopAccepting() {
        }
    }
}
