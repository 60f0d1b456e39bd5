package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A full machine changes nothing: workers out of file descriptors, and a master that stops reading their output. */
class ExhaustionIT {

    private static final String MASTER_GONE = "is gone \\((control link closed|its parent is now)";

    /** The launcher under {@code ulimit}, as an operator's shell or a systemd LimitNOFILE= would start it. */
    private static DroverProcess startLimited(String ulimit, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("bash", "-c", ulimit + "; exec \"$0\" \"$@\"",
                DroverProcess.LAUNCHER.toString()));
        command.addAll(List.of(args));
        return DroverProcess.start(new ProcessBuilder(command));
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void workersOutOfFileDescriptorsKeepServingAndNeverTakeItForTheMastersDeath() throws Exception {
        try (DroverProcess drover = startLimited("ulimit -n 256", "-w", "2", "-b", "127.0.0.1:0",
                "dev.drover.sample.SampleApp")) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            drover.awaitLine("open files: 256 \\(soft and hard limit alike; workers inherit it\\)", Duration.ofSeconds(5));
            Set<Long> workers = drover.workerPids();
            List<Socket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 600; i++) {
                    clients.add(new Socket("127.0.0.1", port)); // the backlog takes what the workers cannot
                }
                drover.awaitLine("WARN  AcceptBackoff - cannot accept connections: too many open files "
                        + "\\(open-file limit 256\\)", Duration.ofSeconds(20));
                DroverProcess.awaitCondition("both workers out of descriptors", Duration.ofSeconds(20),
                        () -> drover.countLines("WARN  AcceptBackoff - cannot accept connections") == 2);
                // A connection a worker accepted before the limit is still served.
                Http.Response early = send(clients.get(0));
                assertEquals(200, early.status(), early.body());
                assertTrue(workers.contains(early.workerPid()), early.toString());
                // The flood goes on across a few of the workers' accept retries (one a second): what is under test is
                // that a worker stays out of descriptors that long and still says so once. The recovery line below
                // counts the failed attempts, so a flood that ended too early fails the test rather than passing it.
                long floodUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2500);
                DroverProcess.awaitCondition("the flood outlasting two more accept retries", Duration.ofSeconds(10),
                        () -> System.nanoTime() - floodUntil >= 0);
            } finally {
                for (Socket c : clients) {
                    c.close();
                }
            }
            Set<Long> answered = new HashSet<>();
            DroverProcess.awaitCondition("every worker answering again", Duration.ofSeconds(20), () -> {
                try {
                    answered.add(Http.get(port, "/").workerPid());
                } catch (IOException e) {
                    return false;
                }
                return answered.equals(workers);
            });
            drover.awaitLine("INFO  AcceptBackoff - accepting connections again, after [0-9.]+ s and ([3-9]|\\d{2,}) "
                    + "failed attempt\\(s\\)", Duration.ofSeconds(5));
            String output = drover.output();
            assertEquals(2, drover.countLines("cannot accept connections"), "one WARN per worker per episode:\n" + output);
            assertEquals(0, drover.countLines(MASTER_GONE), output);
            assertEquals(0, drover.countLines("died unexpectedly|NativeIoException"), output);
            assertTrue(workers.stream().allMatch(DroverProcess::alive), "no worker exited: " + output);
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void theMasterRaisesTheSoftOpenFileLimitToTheHardOneForItsWorkers() throws Exception {
        long hard = Long.parseLong(new String(new ProcessBuilder("bash", "-c", "ulimit -Hn").start().getInputStream()
                .readAllBytes()).trim());
        org.junit.jupiter.api.Assumptions.assumeTrue(hard > 300, "the hard limit leaves nothing to raise: " + hard);
        try (DroverProcess drover = startLimited("ulimit -Sn 300", "-w", "1", "-b", "127.0.0.1:0",
                "dev.drover.sample.SampleApp")) {
            drover.awaitServing(1, Duration.ofSeconds(60));
            drover.awaitLine("open files: soft limit 300 -> " + hard + " \\(the hard limit; workers inherit it\\)",
                    Duration.ofSeconds(5));
            long worker = drover.workerPids().iterator().next();
            String limits = Files.readString(Path.of("/proc", Long.toString(worker), "limits"));
            assertTrue(limits.lines().anyMatch(l -> l.matches("Max open files\\s+" + hard + "\\s+" + hard + "\\s+files\\s*")),
                    limits);
        }
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aStoppedMasterNeverStopsTheWorkersFromServing() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "2", "-b", "127.0.0.1:0",
                "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            ReloadIT.signal(drover, "STOP");
            try {
                // Each worker prints far more than the pipe to the stopped master holds (64 KiB) plus its buffer.
                List<Future<Http.Response>> printers = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    printers.add(pool.submit(() -> Http.get(port, "/print?lines=100000")));
                }
                for (Future<Http.Response> printer : printers) {
                    assertEquals(200, printer.get(20, TimeUnit.SECONDS).status());
                }
                for (int i = 0; i < 20; i++) {
                    Future<Http.Response> normal = pool.submit(() -> Http.get(port, "/"));
                    assertEquals(200, normal.get(2, TimeUnit.SECONDS).status(), "answered while the master is stopped");
                }
            } finally {
                ReloadIT.signal(drover, "CONT");
            }
            Matcher dropped = drover.awaitLine("WARN  OutputBuffer - dropped (\\d+) line\\(s\\) of output \\(\\d+ KiB\\) "
                    + "while the master's log was not keeping up", Duration.ofSeconds(30));
            assertTrue(Long.parseLong(dropped.group(1)) > 0);
            assertTrue(drover.countLines("OutputBuffer - dropped") <= 2, "one count per worker and episode:\n"
                    + drover.output());
            assertTrue(drover.output().contains("WARN  [worker] worker "), "the notice is relayed as a WARN");
            assertEquals(200, Http.get(port, "/").status());
            assertEquals(0, drover.countLines("died unexpectedly|" + MASTER_GONE), drover.output());
        } finally {
            pool.shutdownNow();
        }
    }

    private static Http.Response send(Socket socket) throws IOException {
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes());
        byte[] buffer = new byte[4096];
        int n = socket.getInputStream().read(buffer);
        String text = new String(buffer, 0, Math.max(0, n));
        int status = text.startsWith("HTTP/1.1 ") ? Integer.parseInt(text.substring(9, 12)) : -1;
        Matcher pid = java.util.regex.Pattern.compile("(?i)x-worker-pid: (\\d+)").matcher(text);
        return new Http.Response(status, java.util.Map.of("x-worker-pid", pid.find() ? pid.group(1) : "-1"), text);
    }
}
