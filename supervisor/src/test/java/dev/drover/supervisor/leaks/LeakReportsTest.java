package dev.drover.supervisor.leaks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.drover.supervisor.os.Posix;
import dev.drover.supervisor.os.PrivateDirectory;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writing reports: private (0600 in 0700), never through a link planted where a report or its temp file goes. */
class LeakReportsTest {

    private static final long MIB = 1 << 20;

    @TempDir
    Path tmp;

    private static LeakReport report() {
        List<MemorySeries.Sample> series = new ArrayList<>();
        for (int s = 0; s <= 20; s++) {
            series.add(new MemorySeries.Sample(s * 1000L, s * 100L, 60 * MIB + s * MIB, 10 * MIB + s * MIB, 20 * MIB,
                    3000, MIB, 12));
        }
        return LeakReport.build(1_800_000_000_000L, new LeakReport.Worker(1, 42, 3, "dev.example.App", 20_000, 2000),
                new LeakReport.Limit("memory", "rss over the soft limit", 200 * MIB), series, 5_000, null, "none",
                List.of());
    }

    private static String mode(Path path) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void reportsAre0600InA0700DirectoryCreatedWithItsParents() throws Exception {
        Path dir = tmp.resolve("state/drover/leaks");
        Path text = new LeakReports(dir, 50).write(report());
        assertEquals("rwx------", mode(dir));
        assertEquals("rw-------", mode(text));
        assertEquals("rw-------", mode(dir.resolve(report().id() + ".json")));
    }

    @Test
    void linksPlantedAtTheReportsNamesAreReplacedNotFollowed() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("leaks"));
        Path victim = Files.writeString(tmp.resolve("victim"), "precious\n");
        String id = report().id();
        Files.createSymbolicLink(dir.resolve(id + ".txt.tmp"), victim); // the temp name earlier versions used
        Files.createSymbolicLink(dir.resolve(id + ".json"), victim);
        new LeakReports(dir, 50).write(report());
        assertEquals("precious\n", Files.readString(victim));
        assertEquals("rw-r--r--", mode(victim));
        assertFalse(Files.isSymbolicLink(dir.resolve(id + ".json")));
        assertTrue(Files.readString(dir.resolve(id + ".txt")).contains(id), "the report was written");
    }

    @Test
    void anotherUsersDirectoryIsRefused() throws Exception {
        assumeTrue(Posix.euid() == 0, "needs root to give a directory to another user");
        Path dir = Files.createDirectory(tmp.resolve("leaks"));
        Files.setAttribute(dir, "unix:uid", 65534);
        PrivateDirectory.Unsafe unsafe = assertThrows(PrivateDirectory.Unsafe.class,
                () -> new LeakReports(dir, 50).write(report()));
        assertTrue(unsafe.getMessage().startsWith(dir + " is owned by uid 65534"), unsafe.getMessage());
        assertEquals(List.of(), new LeakReports(dir, 50).ids());
    }
}
