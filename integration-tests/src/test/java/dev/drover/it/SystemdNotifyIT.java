package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * sd_notify as systemd would see it, on a datagram socket of the test's own: the messages of a start, a reload that
 * completes, one that is abandoned, and a stop, in order; and the watchdog's pings, which stop while the master is.
 */
class SystemdNotifyIT {

    private static final Pattern STATUS_ONLY = Pattern.compile(
            "STATUS=\\d+ worker\\(s\\) serving \\(\\d+ wanted\\), generation \\d+(; last: .*)?");

    @TempDir
    Path dir;

    private Path writeConfig(String extra) throws IOException {
        Path conf = dir.resolve("app.conf");
        Files.writeString(conf, String.join("\n", "drover {", "  app = dev.drover.sample.SampleApp",
                "  bind = [\"127.0.0.1:0\"]", "  workers = 1", "}", extra, ""));
        return conf;
    }

    /** The messages that change systemd's view of the unit (READY, RELOADING, STOPPING), in order. */
    private static List<String> stateMessages(NotifyReceiver receiver) {
        return receiver.messages().stream().map(NotifyReceiver.Message::text)
                .filter(t -> !t.startsWith("STATUS=") && !t.equals("WATCHDOG=1")).toList();
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void startReloadsAndStopAreToldInOrder() throws Exception {
        String socket = "@drover-it-" + UUID.randomUUID();
        Path conf = writeConfig("");
        try (NotifyReceiver receiver = NotifyReceiver.bind(socket);
             DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()),
                     Map.of("NOTIFY_SOCKET", socket))) {
            receiver.await("READY=1", 0, t -> t.startsWith("READY=1"), Duration.ofSeconds(60));
            assertEquals(List.of("READY=1\nSTATUS=1 worker(s) serving (1 wanted), generation 1\nMAINPID="
                    + drover.pid()), stateMessages(receiver));

            long beforeHup = System.nanoTime() / 1000;
            ReloadIT.signal(drover, "HUP");
            int reloading = receiver.await("RELOADING=1", 0, t -> t.startsWith("RELOADING=1"), Duration.ofSeconds(30));
            long afterReloading = System.nanoTime() / 1000;
            receiver.await("READY=1 after the reload", reloading, t -> t.startsWith("READY=1"), Duration.ofSeconds(60));
            assertMonotonicBetween(receiver.messages().get(reloading).text(), beforeHup, afterReloading);

            writeConfig("sample { fail-on-start = true }");
            ReloadIT.signal(drover, "HUP");
            int again = receiver.await("RELOADING=1 again", reloading + 1, t -> t.startsWith("RELOADING=1"),
                    Duration.ofSeconds(30));
            receiver.await("READY=1 after the abandoned reload", again, t -> t.startsWith("READY=1"),
                    Duration.ofSeconds(60));

            ReloadIT.signal(drover, "TERM");
            assertEquals(0, drover.awaitExit(Duration.ofSeconds(60)), drover.output());
            receiver.await("STOPPING=1", 0, t -> t.startsWith("STOPPING=1"), Duration.ofSeconds(10));

            List<String> states = stateMessages(receiver);
            assertEquals(6, states.size(), states.toString());
            assertTrue(states.get(1).matches("RELOADING=1\nMONOTONIC_USEC=\\d+\nSTATUS=reloading"), states.get(1));
            assertEquals("READY=1\nSTATUS=reload to generation 2 complete: 1 worker(s) serving", states.get(2));
            assertTrue(states.get(3).matches("RELOADING=1\nMONOTONIC_USEC=\\d+\nSTATUS=reloading"), states.get(3));
            assertTrue(states.get(4).matches("READY=1\nSTATUS=reload to generation 3 abandoned: its canary worker 1 "
                    + "\\(pid \\d+, gen 3\\) could not boot \\(exited with code 3\\); generation 2 keeps serving, "
                    + "nothing changed\\."), states.get(4));
            assertEquals("STOPPING=1\nSTATUS=stopping (SIGTERM)", states.get(5));
            for (NotifyReceiver.Message m : receiver.messages()) {
                assertTrue(!m.text().startsWith("STATUS=") || STATUS_ONLY.matcher(m.text()).matches(), m.text());
            }
            assertEquals(0, receiver.count(t -> t.equals("WATCHDOG=1")), "no WATCHDOG_USEC, no pings");
        }
    }

    /** systemd compares MONOTONIC_USEC with the CLOCK_MONOTONIC time it sent SIGHUP: it must be after that. */
    private static void assertMonotonicBetween(String reloading, long from, long to) {
        Matcher m = Pattern.compile("MONOTONIC_USEC=(\\d+)").matcher(reloading);
        assertTrue(m.find(), reloading);
        long usec = Long.parseLong(m.group(1));
        assertTrue(usec >= from && usec <= to, "MONOTONIC_USEC " + usec + " between " + from + " and " + to);
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void watchdogPingsComeFromTheLoopAndStopWhileTheMasterIsStopped() throws Exception {
        String socket = dir.resolve("notify.sock").toString();
        Path conf = writeConfig("");
        try (NotifyReceiver receiver = NotifyReceiver.bind(socket);
             DroverProcess drover = DroverProcess.start(List.of("-c", conf.toString()),
                     Map.of("NOTIFY_SOCKET", socket, "WATCHDOG_USEC", "400000"))) {
            int ready = receiver.await("READY=1", 0, t -> t.startsWith("READY=1"), Duration.ofSeconds(60));
            // Half of WATCHDOG_USEC: a ping every 200 ms. Fifteen of them take 3 s; a loop that pinged only on its
            // 1 s tick would take 15 s, one that pinged on every turn a fraction of a second.
            long from = receiver.messages().get(ready).receivedAt();
            int fifteenth = awaitPings(receiver, ready, 15, Duration.ofSeconds(30));
            long took = TimeUnit.NANOSECONDS.toMillis(receiver.messages().get(fifteenth).receivedAt() - from);
            assertTrue(took >= 1500 && took <= 7500, "15 pings took " + took + " ms (expected about 3000)");

            ReloadIT.kill("STOP", drover.pid());
            try {
                DroverProcess.awaitCondition("every thread of the master stopped", Duration.ofSeconds(10),
                        () -> allThreadsStopped(drover.pid()));
                assertTrue(receiver.staysQuietFor(Duration.ofSeconds(1)), "a ping arrived while the master was "
                        + "stopped: " + receiver.messages());
            } finally {
                ReloadIT.kill("CONT", drover.pid());
            }
            awaitPings(receiver, receiver.messages().size() - 1, 1, Duration.ofSeconds(10));
            ReloadIT.signal(drover, "TERM");
            assertEquals(0, drover.awaitExit(Duration.ofSeconds(60)), drover.output());
        }
    }

    /** Waits for {@code n} WATCHDOG=1 after the message at index {@code after}; returns the index of the last. */
    private static int awaitPings(NotifyReceiver receiver, int after, int n, Duration timeout) throws Exception {
        int at = after;
        for (int i = 0; i < n; i++) {
            at = receiver.await("WATCHDOG=1 number " + (i + 1), at + 1, t -> t.equals("WATCHDOG=1"), timeout);
        }
        return at;
    }

    private static boolean allThreadsStopped(long pid) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            return tasks.allMatch(task -> {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    return stat.charAt(stat.lastIndexOf(')') + 2) == 'T';
                } catch (IOException e) {
                    return true; // the thread ended
                }
            });
        } catch (IOException e) {
            return false;
        }
    }
}
