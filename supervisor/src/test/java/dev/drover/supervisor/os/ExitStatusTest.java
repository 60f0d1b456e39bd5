package dev.drover.supervisor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ExitStatusTest {

    @Test
    void decodesCodesAndSignals() {
        assertEquals("exited with code 0", ExitStatus.describe(0));
        assertEquals("exited with code 3", ExitStatus.describe(3));
        assertEquals("terminated by TERM (exit status 143)", ExitStatus.describe(143));
        assertEquals("killed by signal 6 (SIGABRT) (exit status 134)", ExitStatus.describe(134));
        String kill = ExitStatus.describe(137);
        assertTrue(kill.startsWith("killed by signal 9 (SIGKILL)"), kill);
        assertTrue(kill.contains("OOM killer"), kill);
    }
}
