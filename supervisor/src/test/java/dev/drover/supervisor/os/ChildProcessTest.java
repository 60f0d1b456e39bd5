package dev.drover.supervisor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Signals reach a child through its pidfd while it lives, and nothing at all once the JDK has reaped it. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class ChildProcessTest {

    @Test
    void anInterruptReachesTheChildThroughItsPidfd() throws Exception {
        Process sleep = new ProcessBuilder("sleep", "30").start();
        try {
            ChildProcess child = ChildProcess.adopt(sleep);
            CompletableFuture<Integer> status = new CompletableFuture<>();
            child.follow("sleep", status::complete);
            child.interrupt();
            assertEquals(128 + LibC.SIGINT, status.get(10, TimeUnit.SECONDS));
            child.release();
        } finally {
            sleep.destroyForcibly();
        }
    }

    @Test
    void aPidfdOfAReapedProcessSaysItIsGoneInsteadOfSignallingAnother() throws Exception {
        Process sleep = new ProcessBuilder("sleep", "30").start();
        Pidfd pidfd = Pidfd.open(sleep.pid());
        try {
            assertNull(pidfd.sendSignal(0), "signal 0 (a probe) reaches a live process");
            sleep.destroyForcibly();
            sleep.waitFor(10, TimeUnit.SECONDS); // the JDK has reaped it: its pid is free for anyone
            assertEquals(Pidfd.GONE, pidfd.sendSignal(LibC.SIGKILL));
        } finally {
            pidfd.close();
            sleep.destroyForcibly();
        }
        assertEquals(Pidfd.GONE, pidfd.sendSignal(LibC.SIGKILL), "a closed pidfd is never used");
    }

    @Test
    void killingAProcessThatIsGoneFailsWithItsErrno() {
        String failure = Posix.kill(Integer.MAX_VALUE, 0);
        assertTrue(failure.startsWith("kill(2147483647, 0) failed: No such process (errno 3)"), failure);
    }
}
