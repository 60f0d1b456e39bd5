package dev.drover.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A stand-in for systemd's notify socket: a python3 process bound to a Unix datagram socket (a path, or "@name" in
 * the abstract namespace) that prints each datagram it receives, which this class collects with its arrival time.
 * JDK 17 cannot receive on a Unix datagram socket, hence the helper process. On close it is ended by its pid.
 */
final class NotifyReceiver implements AutoCloseable {

    /** One datagram: its text (newline-separated assignments) and when the test saw it (System.nanoTime). */
    record Message(String text, long receivedAt) {
    }

    /**
     * Prints "MSG <datagram as JSON string>" for each datagram. On the stdin line "quiet MS" it first drains what is
     * queued (printing it), says "DRAINED", then says "QUIET" if nothing arrives for MS milliseconds, or "NOISY" as
     * soon as something does.
     */
    private static final String SCRIPT = """
            import json, os, select, socket, sys, time
            address = sys.argv[1]
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind("\\0" + address[1:] if address.startswith("@") else address)
            s.setblocking(False)
            print("BOUND", flush=True)
            def drain():
                while True:
                    try:
                        print("MSG " + json.dumps(s.recv(65536).decode()), flush=True)
                    except BlockingIOError:
                        return
            quiet_until = None
            while True:
                timeout = None if quiet_until is None else max(0, quiet_until - time.monotonic())
                ready, _, _ = select.select([s, sys.stdin], [], [], timeout)
                if s in ready:
                    drain()
                    if quiet_until is not None:
                        print("NOISY", flush=True)
                        quiet_until = None
                if sys.stdin in ready:
                    line = sys.stdin.readline()
                    if not line:
                        break
                    drain()
                    print("DRAINED", flush=True)
                    quiet_ms = int(line.split()[1])
                    quiet_until = time.monotonic() + quiet_ms / 1000
                elif quiet_until is not None and time.monotonic() >= quiet_until:
                    print("QUIET", flush=True)
                    quiet_until = None
            """;

    private final Process process;
    private final Writer stdin;
    private final List<Message> messages = new ArrayList<>();
    private final List<String> notices = new ArrayList<>();

    private NotifyReceiver(Process process) {
        this.process = process;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(this::pump, "notify-receiver-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /** Binds {@code address} ("@name" or a path) and returns once the socket is bound. */
    static NotifyReceiver bind(String address) throws Exception {
        Process p = new ProcessBuilder("python3", "-c", SCRIPT, address).redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        NotifyReceiver receiver = new NotifyReceiver(p);
        try {
            receiver.awaitNotice("BOUND", 0, Duration.ofSeconds(10));
        } catch (Throwable e) {
            receiver.close();
            throw e;
        }
        return receiver;
    }

    private void pump() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                synchronized (messages) {
                    if (line.startsWith("MSG ")) {
                        messages.add(new Message(unquote(line.substring(4)), System.nanoTime()));
                    } else {
                        notices.add(line);
                    }
                    messages.notifyAll();
                }
            }
        } catch (IOException e) {
            // the receiver ended
        }
    }

    /** The JSON string python printed: only \n, \" and \\ can occur in sd_notify text. */
    private static String unquote(String json) {
        return json.substring(1, json.length() - 1).replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
    }

    List<Message> messages() {
        synchronized (messages) {
            return List.copyOf(messages);
        }
    }

    long count(Predicate<String> which) {
        return messages().stream().filter(m -> which.test(m.text())).count();
    }

    /** Waits for a message at or after index {@code from} that {@code which} accepts; returns its index. */
    int await(String what, int from, Predicate<String> which, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (messages) {
            for (int i = from; ; ) {
                for (; i < messages.size(); i++) {
                    if (which.test(messages.get(i).text())) {
                        return i;
                    }
                }
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    fail("no notify message " + what + " within " + timeout + "; received: " + messages);
                }
                messages.wait(Math.min(left, 200));
            }
        }
    }

    /**
     * Drains what the sender queued before now, then returns true if nothing more arrives for {@code quiet} (false
     * as soon as something does).
     */
    boolean staysQuietFor(Duration quiet) throws Exception {
        int mark;
        synchronized (messages) {
            mark = notices.size();
        }
        stdin.write("quiet " + quiet.toMillis() + "\n");
        stdin.flush();
        awaitNotice("DRAINED", mark, Duration.ofSeconds(10));
        return awaitNotice(List.of("QUIET", "NOISY"), mark, quiet.plusSeconds(10)).equals("QUIET");
    }

    private void awaitNotice(String notice, int from, Duration timeout) throws InterruptedException {
        awaitNotice(List.of(notice), from, timeout);
    }

    /** Waits for one of {@code expected} among the receiver's notices from index {@code from}; returns it. */
    private String awaitNotice(List<String> expected, int from, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (messages) {
            while (true) {
                for (int i = from; i < notices.size(); i++) {
                    if (expected.contains(notices.get(i))) {
                        return notices.get(i);
                    }
                }
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    fail("the notify receiver did not say " + expected + " within " + timeout + " (alive: "
                            + process.isAlive() + "); said: " + notices);
                }
                messages.wait(Math.min(left, 200));
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
