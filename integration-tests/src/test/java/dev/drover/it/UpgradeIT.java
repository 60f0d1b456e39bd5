package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * `drover ctl upgrade`: the master execs the installation on disk under its own pid, keeps its socket, and replaces
 * its workers surge-first; a configuration the new installation refuses changes nothing. "A new version" is the same
 * build under another name: DROVER_INTERNAL_VERSION_FILE (test-only) gives the version each master starts as.
 */
class UpgradeIT {

    @TempDir
    Path dir;

    private Path pidfile;
    private Path conf;
    private Path version;

    private DroverProcess start(String workers) throws Exception {
        pidfile = dir.resolve("app.pid");
        conf = dir.resolve("app.conf");
        version = dir.resolve("version");
        Files.writeString(version, "1.0-it-old\n");
        writeConfig(workers);
        return DroverProcess.start(List.of("-c", conf.toString()),
                Map.of("DROVER_INTERNAL_VERSION_FILE", version.toString()));
    }

    private void writeConfig(String workers) throws IOException {
        Files.writeString(conf, String.join("\n", "drover {", "  app = dev.drover.sample.SampleApp",
                "  bind = [\"127.0.0.1:0\"]", "  workers = " + workers, "  pidfile = \"" + pidfile + "\"", "}", ""));
    }

    private DroverProcess.Result upgrade() throws Exception {
        return DroverProcess.run(List.of("ctl", "-p", pidfile.toString(), "upgrade"), Map.of(), Duration.ofSeconds(150));
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void upgradeUnderLoadKeepsThePidAndLosesNothing() throws Exception {
        try (DroverProcess drover = start("2")) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            long pid = drover.pid();
            Set<Long> old = new HashSet<>(Ctl.servingPids(pidfile));
            try (Load load = Load.start(port, "/", 2, 2, 5)) {
                load.awaitMore(200, Duration.ofSeconds(30));
                Files.writeString(version, "2.0-it-new\n");
                DroverProcess.Result result = upgrade();
                assertEquals(0, result.exitCode(), result.output() + "\n" + drover.output());
                drover.awaitLine("drover 2\\.0-it-new master " + pid + " upgraded in place from drover 1\\.0-it-old",
                        Duration.ofSeconds(5));
                load.awaitMore(200, Duration.ofSeconds(30));
                load.close();
                assertEquals(0, load.failed.get(), load.summary() + "\n" + drover.output());
            }
            assertTrue(drover.process().isAlive(), "the master's process lives on");
            assertEquals(Long.toString(pid), Files.readString(pidfile).trim(), "the pidfile holds the same pid");
            Config status = Ctl.status(pidfile);
            assertEquals(pid, status.getLong("pid"));
            assertEquals(2, status.getInt("generation"));
            assertEquals("complete", status.getString("upgrade.phase"));
            assertEquals(1, status.getInt("upgrade.upgrades"));
            Set<Long> serving = new HashSet<>(Ctl.servingPids(pidfile));
            assertEquals(2, serving.size());
            serving.forEach(p -> assertFalse(old.contains(p), "every worker is new: " + old + " -> " + serving));
            Set<Long> children = children(pid);
            assertEquals(serving, children, "the master's children are its new workers alone (old ones reaped)");
            for (long child : children) {
                assertTrue(DroverProcess.alive(child), "child " + child + " is no zombie");
            }
            for (long gone : old) {
                assertFalse(Files.exists(Path.of("/proc", Long.toString(gone))), "old worker " + gone + " is reaped");
            }
        }
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aConfigurationTheNewInstallationRefusesChangesNothing() throws Exception {
        try (DroverProcess drover = start("2")) {
            int port = drover.awaitServing(2, Duration.ofSeconds(60));
            Set<Long> before = new HashSet<>(Ctl.servingPids(pidfile));
            writeConfig("banana");
            DroverProcess.Result result = upgrade();
            assertEquals(2, result.exitCode(), result.output());
            assertTrue(result.output().contains("upgrade refused, nothing changed")
                    && result.output().contains("drover.workers = \"banana\""), result.output());
            drover.awaitLine("ERROR \\[Upgrade\\] drover ctl upgrade: upgrade refused, nothing changed", Duration.ofSeconds(5));
            assertEquals(200, Http.get(port, "/").status());
            assertEquals(before, new HashSet<>(Ctl.servingPids(pidfile)), "the same workers serve");
            assertEquals(0, drover.countLines("upgraded in place"));
        }
    }

    /** Every child of {@code pid}, from /proc/PID/task/TID/children (a child is listed under the thread that forked it). */
    private static Set<Long> children(long pid) throws IOException {
        Set<Long> children = new HashSet<>();
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks.toList()) {
                for (String child : Files.readString(task.resolve("children")).trim().split("\\s+")) {
                    if (!child.isEmpty()) {
                        children.add(Long.parseLong(child));
                    }
                }
            }
        }
        return children;
    }
}
