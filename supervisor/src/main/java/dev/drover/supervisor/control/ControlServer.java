package dev.drover.supervisor.control;

import dev.drover.supervisor.config.PathErrors;
import dev.drover.supervisor.os.Posix;
import dev.drover.supervisor.os.PrivateDirectory;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The socket `drover ctl` talks to: 0600 in a 0700 directory, so only the master's user gets in. One line in
 * (the command), one JSON document out. Commands are served one at a time by the arbiter.
 */
public final class ControlServer implements AutoCloseable {

    /** Takes one command line; completes {@code reply} with the JSON answer. Called on the client's thread. */
    public interface Requests {
        void request(String command, CompletableFuture<String> reply);
    }

    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    /**
     * How long a command may wait for its answer before the client gets an error: most are answered at once by the
     * arbiter; a snapshot or heap dump waits for the worker, and a heap dump of a big heap takes a while.
     */
    static final long REPLY_TIMEOUT_MS = 60_000;
    static final int MAX_COMMAND = 1024;

    private final Path path;
    private final boolean createdDirectory;
    private final ServerSocketChannel server;
    private final Thread acceptor;

    private ControlServer(Path path, boolean createdDirectory, ServerSocketChannel server, Requests events) {
        this.path = path;
        this.createdDirectory = createdDirectory;
        this.server = server;
        this.acceptor = new Thread(() -> serve(events), "drover-control");
        acceptor.setDaemon(true);
    }

    /**
     * Creates the directory (0700) or verifies the existing one (ours, 0700, not a link), and binds; the message of
     * the exception says why it could not ({@link PrivateDirectory.Unsafe} for a directory that is not ours).
     */
    public static ControlServer open(Path path, Requests events) throws IOException {
        Path dir = path.toAbsolutePath().normalize().getParent();
        boolean created = !Files.exists(dir, LinkOption.NOFOLLOW_LINKS);
        PrivateDirectory.createOrVerify(dir, PrivateDirectory.Rule.EXACTLY_0700);
        removeStale(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            // bind() creates the socket file 0777 & ~umask: 0600 from the start, never chmod-ed through its path.
            Posix.withUmask(0177, () -> server.bind(UnixDomainSocketAddress.of(path)));
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot create the control socket " + path + ": " + PathErrors.reason(e), e);
        }
        ControlServer control = new ControlServer(path, created, server, events);
        control.acceptor.start();
        return control;
    }

    /**
     * A socket nobody answers on is a dead master's: removed, as is anything else at that name (the directory is
     * ours alone, so only our user or root put it there). Removing never follows a link.
     */
    private static void removeStale(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS) || Files.isSymbolicLink(path)) {
            Files.delete(path);
            return;
        }
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            throw new IOException("control socket " + path + " is in use: is another Drover master running?");
        } catch (ConnectException stale) {
            Files.delete(path);
        }
    }

    public Path path() {
        return path;
    }

    private void serve(Requests events) {
        while (server.isOpen()) {
            try {
                SocketChannel client = server.accept();
                // One thread per command: a client that connects and never writes cannot block the others.
                Thread handler = new Thread(() -> answer(client, events), "drover-control-client");
                handler.setDaemon(true);
                handler.start();
            } catch (IOException e) {
                if (server.isOpen()) {
                    log.warn("control socket {}: {}", path, e.getMessage());
                }
            }
        }
    }

    private void answer(SocketChannel connection, Requests events) {
        try (SocketChannel client = connection) {
            String command = readLine(client);
            CompletableFuture<String> reply = new CompletableFuture<>();
            events.request(command, reply);
            String answer;
            try {
                answer = reply.get(REPLY_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                answer = Json.write(Map.of("error", "the master did not answer within " + REPLY_TIMEOUT_MS + " ms"));
            }
            client.write(ByteBuffer.wrap((answer + "\n").getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            log.warn("control socket {}: {}", path, e.getMessage());
        }
    }

    private static String readLine(SocketChannel client) throws IOException {
        StringBuilder line = new StringBuilder();
        var in = Channels.newInputStream(client);
        for (int b = in.read(); b != -1 && b != '\n'; b = in.read()) {
            if (line.length() >= MAX_COMMAND) {
                throw new IOException("command longer than " + MAX_COMMAND + " bytes");
            }
            line.append((char) b);
        }
        return line.toString().trim();
    }

    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(path);
            if (createdDirectory) {
                Files.deleteIfExists(path.toAbsolutePath().getParent());
            }
        } catch (IOException e) {
            log.debug("closing the control socket {}: {}", path, e.getMessage());
        }
    }
}
