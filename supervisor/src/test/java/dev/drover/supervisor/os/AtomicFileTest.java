package dev.drover.supervisor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replacing a file never writes through a link planted at its name, and the file has its mode from the start. */
class AtomicFileTest {

    @TempDir
    Path tmp;

    @Test
    void aLinkAtTheTargetIsReplacedNotFollowed() throws Exception {
        Path victim = Files.writeString(tmp.resolve("victim"), "precious\n");
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-r--r--"));
        Path target = Files.createSymbolicLink(tmp.resolve("report.txt"), victim);
        AtomicFile.write(target, "report\n".getBytes(), "rw-------");
        assertEquals("precious\n", Files.readString(victim));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(victim)));
        assertFalse(Files.isSymbolicLink(target));
        assertEquals("report\n", Files.readString(target));
        assertEquals("rw-------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(target, LinkOption.NOFOLLOW_LINKS)));
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of("report.txt", "victim"), files.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no temp file left behind");
        }
    }
}
