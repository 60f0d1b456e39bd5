package dev.drover.supervisor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where runtime directories go, and which ones left behind count as a dead master's. */
class RuntimeDirectoryTest {

    private static final long SELF = ProcessHandle.current().pid();

    @TempDir
    Path base;

    @Test
    void baseIsTheUsersRuntimeDirElseRunForRootElseAPerUserTempDir() {
        assertEquals(Path.of("/run/user/1000/drover"),
                RuntimeDirectory.base(Map.of("XDG_RUNTIME_DIR", "/run/user/1000"), 1000, "/tmp"));
        assertEquals(Path.of("/tmp/drover-1000"), RuntimeDirectory.base(Map.of(), 1000, "/tmp"));
        assertEquals(Path.of("/run/drover"), RuntimeDirectory.base(Map.of("XDG_RUNTIME_DIR", ""), 0, "/tmp"));
    }

    private Path directory(long pid, String boot, long startTicks) throws Exception {
        return Files.createDirectory(base.resolve(RuntimeDirectory.name(pid, boot, startTicks)));
    }

    private static long selfStart() {
        return RuntimeDirectory.startTicks(SELF).orElseThrow();
    }

    @Test
    void aDeadPidsDirectoryIsStaleALiveOnesIsNot() throws Exception {
        String boot = RuntimeDirectory.bootId();
        Path dead = directory(999999999, boot, 1);
        assertEquals(Optional.of("pid 999999999 is not running"), RuntimeDirectory.staleBecause(dead, Posix.euid()));
        Path live = directory(SELF, boot, selfStart());
        assertEquals(Optional.empty(), RuntimeDirectory.staleBecause(live, Posix.euid()));
        Path other = Files.createDirectory(base.resolve("not-a-master-999999999-3"));
        assertEquals(Optional.empty(), RuntimeDirectory.staleBecause(other, Posix.euid()));
    }

    @Test
    void aLivePidWithAnotherStartTimeOrAnEarlierBootIsAReusedPid() throws Exception {
        Path reused = directory(SELF, RuntimeDirectory.bootId(), selfStart() - 1);
        assertEquals(Optional.of("pid " + SELF + " now belongs to another process"),
                RuntimeDirectory.staleBecause(reused, Posix.euid()));
        String earlierBoot = RuntimeDirectory.bootId().equals("00000000") ? "00000001" : "00000000";
        Path beforeReboot = directory(SELF, earlierBoot, selfStart());
        assertEquals(Optional.of("it was made before the last reboot"),
                RuntimeDirectory.staleBecause(beforeReboot, Posix.euid()));
    }

    @Test
    void anotherUsersDirectoryIsNeverTouched() throws Exception {
        assumeTrue(Posix.euid() == 0, "needs root to give a directory to another user");
        Path theirs = directory(999999999, RuntimeDirectory.bootId(), 1);
        Files.setAttribute(theirs, "unix:uid", 65534);
        assertEquals(Optional.empty(), RuntimeDirectory.staleBecause(theirs, 0));
        RuntimeDirectory.removeStale(base, 0);
        assertTrue(Files.isDirectory(theirs));
    }

    @Test
    void removeStaleRemovesOnlyTheProvablyDead() throws Exception {
        Path dead = directory(999999999, RuntimeDirectory.bootId(), 1);
        Files.writeString(dead.resolve("evidence-1.json"), "{}");
        Path victim = Files.writeString(base.resolve("victim"), "precious");
        Files.createSymbolicLink(dead.resolve("link"), victim);
        Path live = directory(SELF, RuntimeDirectory.bootId(), selfStart());
        RuntimeDirectory.removeStale(base, Posix.euid());
        assertFalse(Files.exists(dead));
        assertTrue(Files.isDirectory(live));
        assertEquals("precious", Files.readString(victim), "a link inside is removed, not followed");
    }
}
