package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Two workers on one TCP socket and one Unix socket: load spreads over both, and `drover ctl` shows them. */
class ServingIT {

    @Test
    void requestsSpreadOverEveryWorkerOnTcpAndUnixSockets() throws Exception {
        Path dir = DroverProcess.tempDir("drover-serving");
        Path pidfile = dir.resolve("app.pid");
        Path unixSocket = dir.resolve("app.sock");
        // A stale socket file, as a master killed with -9 leaves behind: replaced, like Gunicorn does.
        try (var stale = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            stale.bind(UnixDomainSocketAddress.of(unixSocket));
        }
        assertTrue(Files.exists(unixSocket));
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "2", "-b", "127.0.0.1:0",
                "-b", "unix:" + unixSocket, "-p", pidfile.toString(), "dev.drover.sample.SampleApp"))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            assertEquals(Long.toString(drover.pid()), Files.readString(pidfile).trim(), "pidfile holds the master's pid");

            try (Load load = Load.start(port, "/", 0, 8)) {
                load.awaitMore(400, Duration.ofSeconds(60));
                load.close();
                assertEquals(0, load.failed.get(), load.summary());
                assertEquals(2, load.byWorker.size(), "both workers answered: " + load.summary());
            }

            try (Http http = Http.connect(UnixDomainSocketAddress.of(unixSocket))) {
                Http.Response response = http.send("/", true);
                assertEquals(200, response.status());
                assertTrue(response.body().startsWith("hello from worker"), response.body());
            }
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(unixSocket)),
                    "unix-socket-mode default 0660");

            Config status = Ctl.status(pidfile);
            assertEquals(drover.pid(), status.getLong("pid"));
            List<? extends Config> workers = status.getConfigList("workers");
            assertEquals(2, workers.size());
            Set<Integer> ids = workers.stream().map(w -> w.getInt("id")).collect(Collectors.toSet());
            assertEquals(Set.of(1, 2), ids);
            for (Config w : workers) {
                assertEquals("serving", w.getString("state"));
                assertEquals(1, w.getInt("generation"));
                assertTrue(w.getLong("rss_bytes") > 10_000_000, "RSS of a worker JVM: " + w);
                assertTrue(w.getLong("pss_bytes") > 0, "PSS: " + w);
                assertTrue(DroverProcess.alive(w.getLong("pid")));
            }
            DroverProcess.awaitCondition("request counts reported", Duration.ofSeconds(10), () -> {
                try {
                    return Ctl.status(pidfile).getConfigList("workers").stream()
                            .mapToLong(w -> w.getLong("requests")).sum() >= 400;
                } catch (Exception e) {
                    return false;
                }
            });

            DroverProcess.Result table = Ctl.run(pidfile, "status");
            assertEquals(0, table.exitCode(), table.output());
            assertTrue(table.output().contains("master " + drover.pid()), table.output());
            assertTrue(table.output().lines().anyMatch(l -> l.matches("1\\s+\\d+\\s+1\\s+serving\\s+\\d+\\s+0\\s+\\d+\\s+\\d+\\s+\\d+\\s+dev\\.drover\\.sample\\.SampleApp")),
                    table.output());

            DroverProcess.Result unknown = Ctl.run(pidfile, "frobnicate");
            assertEquals(2, unknown.exitCode(), unknown.output());
            assertTrue(unknown.output().contains("unknown command \"frobnicate\" (expected one of: status, reload, "),
                    unknown.output());

            Path controlSocket = Path.of(pidfile + ".ctl", "control.sock");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(controlSocket)));
            assertEquals("rwx------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(controlSocket.getParent())));

            java.lang.ProcessHandle.of(drover.pid()).ifPresent(ProcessHandle::destroy); // SIGTERM
            assertEquals(0, drover.awaitExit(Duration.ofSeconds(40)));
            assertFalse(Files.exists(pidfile), "pidfile removed on exit");
            assertFalse(Files.exists(unixSocket), "unix socket removed on exit");
            assertFalse(Files.exists(controlSocket.getParent()), "control socket directory removed on exit");
        }
    }

    /** fd://N: a socket bound by whoever starts Drover (systemd, a parent supervisor) and inherited as fd N. */
    @Test
    void servesOnAnInheritedSocket() throws Exception {
        Path script = DroverProcess.tempDir("drover-fd").resolve("inherit.py");
        Files.writeString(script, String.join("\n",
                "import os, socket, sys",
                "s = socket.socket()",
                "s.bind(('127.0.0.1', 0))",
                "s.listen(128)",
                "s.set_inheritable(True)",
                "print('inherited port', s.getsockname()[1], flush=True)",
                "os.execv(sys.argv[1], [sys.argv[1], '-b', 'fd://%d' % s.fileno(), 'dev.drover.sample.SampleApp'])",
                ""));
        ProcessBuilder builder = new ProcessBuilder("python3", script.toString(), DroverProcess.LAUNCHER.toString());
        try (DroverProcess drover = DroverProcess.start(builder)) {
            int port = Integer.parseInt(drover.awaitLine("inherited port (\\d+)", Duration.ofSeconds(10)).group(1));
            drover.awaitLine("listening on http://127.0.0.1:" + port, Duration.ofSeconds(30));
            drover.awaitServing(1, Duration.ofSeconds(60));
            assertEquals(200, Http.get(port, "/").status());
        }
    }
}
