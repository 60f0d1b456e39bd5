package dev.drover.supervisor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JDK's path exceptions carry the OS's reason once unwrapped. */
class PathErrorsTest {

    @TempDir
    Path tmp;

    @Test
    void theReasonOfEachCommonFailure() throws Exception {
        IOException missing = assertThrows(IOException.class, () -> Files.createFile(tmp.resolve("no/such")));
        assertEquals(tmp.resolve("no/such") + ": No such file or directory", PathErrors.describe(missing));
        IOException proc = assertThrows(IOException.class, () -> Files.createFile(Path.of("/proc/x.pid")));
        assertEquals("No such file or directory", PathErrors.reason(proc));
        Path file = Files.writeString(tmp.resolve("file"), "");
        IOException notADirectory = assertThrows(IOException.class, () -> Files.createFile(file.resolve("x")));
        assertEquals("Not a directory", PathErrors.reason(notADirectory));
        IOException exists = assertThrows(IOException.class, () -> Files.createFile(file));
        assertEquals("File exists", PathErrors.reason(exists));
    }
}
