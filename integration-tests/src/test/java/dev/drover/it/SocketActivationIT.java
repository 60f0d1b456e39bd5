package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Socket activation as systemd does it, through systemd-socket-activate: it binds the port, waits for the first
 * connection, then execs the launcher with the socket on fd 3 and LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES set.
 * It passes on only PATH, HOME, USER and TERM of its own environment, and what -E names.
 */
class SocketActivationIT {

    private static final List<String> SYSTEMD_VARIABLES = List.of("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID",
            "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID");

    @TempDir
    Path dir;

    /** A port nobody listens on now; systemd-socket-activate needs one named (it would log port 0 as 0). */
    private static int freePort() throws Exception {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    private static ProcessBuilder activate(List<String> listen, List<String> env, List<String> droverArgs) {
        List<String> command = new java.util.ArrayList<>(List.of("systemd-socket-activate"));
        command.addAll(listen);
        command.addAll(List.of("-E", "DROVER_NO_BUILD=1", "-E", "DROVER_CLASSPATH=" + DroverProcess.SAMPLE_JAR));
        env.forEach(e -> command.addAll(List.of("-E", e)));
        command.add(DroverProcess.LAUNCHER.toString());
        command.addAll(droverArgs);
        return new ProcessBuilder(command);
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void servesOnThePassedSocketThroughAReloadAndRecyclesWithWorkersThatSeeNothingOfSystemd() throws Exception {
        int port = freePort();
        Path pidfile = dir.resolve("app.pid");
        Path conf = dir.resolve("app.conf");
        Files.writeString(conf, String.join("\n", "drover {", "  app = dev.drover.sample.SampleApp",
                "  bind = [\"systemd:http\"]", "  workers = 2", "  max-requests = 150", "  max-requests-jitter = 50",
                "  pidfile = \"" + pidfile + "\"", "}", ""));
        String notify = dir.resolve("notify.sock").toString();
        try (NotifyReceiver receiver = NotifyReceiver.bind(notify);
             DroverProcess drover = DroverProcess.start(activate(List.of("-l", "127.0.0.1:" + port, "--fdname=http"),
                     List.of("NOTIFY_SOCKET=" + notify, "WATCHDOG_USEC=10000000"), List.of("-c", conf.toString())))) {
            drover.awaitLine("Listening on 127.0.0.1:" + port, Duration.ofSeconds(10));
            // The first connection makes systemd-socket-activate exec the master; it waits in the backlog meanwhile.
            assertEquals(200, Http.get(port, "/").status(), drover.output());
            assertEquals(port, drover.awaitServing(2, Duration.ofSeconds(60)));
            // systemd-socket-activate execs the launcher, which execs the JVM: the pid we started is the master's.
            long master = Long.parseLong(drover.awaitLine("master (\\d+) listening on", Duration.ofSeconds(5)).group(1));
            assertEquals(drover.pid(), master);
            receiver.await("READY=1", 0, t -> t.startsWith("READY=1"), Duration.ofSeconds(30));

            try (Load load = Load.start(port, "/", 2, 2, 5)) {
                ReloadIT.signal(drover, "HUP");
                drover.awaitLine("reload to generation 2 complete: 2 worker\\(s\\) serving", Duration.ofSeconds(60));
                DroverProcess.awaitCondition("two max-requests recycles after the reload", Duration.ofSeconds(60),
                        () -> drover.output().matches("(?s).*reload to generation 2 complete.*recycled "
                                + "\\(max-requests\\).*recycled \\(max-requests\\).*"));
                load.close();
                assertEquals(0, load.failed.get(), load.summary() + "\n" + drover.output());
            }
            for (long pid : Ctl.servingPids(pidfile)) {
                assertNoSystemdVariables(pid);
            }
            ReloadIT.signal(drover, "TERM");
            assertEquals(0, drover.awaitExit(Duration.ofSeconds(60)), drover.output());
        }
    }

    private static void assertNoSystemdVariables(long pid) throws Exception {
        List<String> environ = Arrays.asList(new String(Files.readAllBytes(Path.of("/proc/" + pid + "/environ")))
                .split("\0"));
        assertTrue(environ.stream().anyMatch(v -> v.startsWith("DROVER_INTERNAL_ID=")), "a worker's environment: "
                + environ);
        for (String name : SYSTEMD_VARIABLES) {
            assertTrue(environ.stream().noneMatch(v -> v.startsWith(name + "=")), "worker " + pid + " sees " + name);
        }
    }

    @Test
    @Timeout(value = 1, unit = TimeUnit.MINUTES)
    void aPassedDatagramSocketIsRefusedWithExitCode2() throws Exception {
        int port = freePort();
        try (DroverProcess drover = DroverProcess.start(activate(List.of("--datagram", "-l", "127.0.0.1:" + port),
                List.of(), List.of("-w", "1", "dev.drover.sample.SampleApp")))) {
            drover.awaitLine("Listening on 127.0.0.1:" + port, Duration.ofSeconds(10));
            try (DatagramSocket udp = new DatagramSocket()) {
                udp.send(new DatagramPacket(new byte[] {1}, 1, InetAddress.getLoopbackAddress(), port));
            }
            assertEquals(2, drover.awaitExit(Duration.ofSeconds(30)), drover.output());
            assertTrue(drover.output().contains("drover.bind = fd://3 (LISTEN_FDS (the sockets systemd passed; "
                    + "drover.bind is not set)): fd 3 is a datagram socket, not a stream socket (a socket unit needs "
                    + "ListenStream=, not ListenDatagram=)"), drover.output());
            assertTrue(!drover.spawnedAnyWorker(), drover.output());
        }
    }

    /** fd://N that is a stream socket nobody called listen(2) on: the same check as for a passed socket. */
    @Test
    @Timeout(value = 1, unit = TimeUnit.MINUTES)
    void anInheritedSocketThatIsNotListeningIsRefusedWithExitCode2() throws Exception {
        Path script = dir.resolve("unbound.py");
        Files.writeString(script, String.join("\n",
                "import os, socket, sys",
                "s = socket.socket()",
                "s.set_inheritable(True)",
                "os.execv(sys.argv[1], [sys.argv[1], '-b', 'fd://%d' % s.fileno(), 'dev.drover.sample.SampleApp'])",
                ""));
        try (DroverProcess drover = DroverProcess.start(new ProcessBuilder("python3", script.toString(),
                DroverProcess.LAUNCHER.toString()))) {
            assertEquals(2, drover.awaitExit(Duration.ofSeconds(30)), drover.output());
            assertTrue(drover.output().matches("(?s).*drover\\.bind = fd://\\d+ \\(command-line flag -b/--bind\\): "
                    + "fd \\d+ is a stream socket that is not listening \\(not bound, or listen\\(2\\) was never "
                    + "called on it\\).*"), drover.output());
            assertTrue(!drover.spawnedAnyWorker(), drover.output());
        }
    }
}
