package dev.drover.supervisor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class OutOfMemoryExitTest {

    private static final String HEAP = "Terminating due to java.lang.OutOfMemoryError: Java heap space";

    @Test
    void namesTheKindFromHotSpotsLine() {
        assertEquals(Optional.of("Java heap space"), OutOfMemoryExit.kind(3, List.of("INFO  Worker - ready", HEAP)));
        assertEquals(Optional.of("Metaspace"), OutOfMemoryExit.kind(3,
                List.of("Terminating due to java.lang.OutOfMemoryError: Metaspace")));
        assertEquals(Optional.of("Cannot reserve 1048576 bytes of direct buffer memory (allocated: 1, limit: 2)"),
                OutOfMemoryExit.kind(3, List.of("Terminating due to java.lang.OutOfMemoryError: "
                        + "Cannot reserve 1048576 bytes of direct buffer memory (allocated: 1, limit: 2)", "")));
        assertEquals(Optional.of("unknown kind"), OutOfMemoryExit.kind(3,
                List.of("Terminating due to java.lang.OutOfMemoryError: ")));
    }

    @Test
    void exitCodeThreeAloneIsDroversBootErrorNotAnOutOfMemoryError() {
        assertEquals(Optional.empty(), OutOfMemoryExit.kind(3, List.of("ERROR Worker - cannot boot: no such class")));
        assertEquals(Optional.empty(), OutOfMemoryExit.kind(3, List.of()));
    }

    @Test
    void theLineWithAnotherStatusIsNoSuchExit() {
        // -XX:+CrashOnOutOfMemoryError or a SIGKILL after the line: not the guard's exit.
        assertEquals(Optional.empty(), OutOfMemoryExit.kind(134, List.of(HEAP)));
        assertEquals(Optional.empty(), OutOfMemoryExit.kind(0, List.of(HEAP)));
    }

    @Test
    void describesItAsTheJvmNamesIt() {
        assertEquals("java.lang.OutOfMemoryError: Metaspace", OutOfMemoryExit.describe("Metaspace"));
    }
}
