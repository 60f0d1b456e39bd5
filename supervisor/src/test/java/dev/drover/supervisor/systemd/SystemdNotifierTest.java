package dev.drover.supervisor.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.drover.supervisor.arbiter.LifecycleListener.ReloadOutcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which sd_notify message each event of the master's life sends, and when the watchdog pings. */
class SystemdNotifierTest {

    private final List<String> sent = new ArrayList<>();

    private SystemdNotifier notifier(Duration watchdog) {
        return new SystemdNotifier(sent::add, 99, watchdog, () -> 1234, 0);
    }

    @Test
    void readyOnlyOnceEveryWantedWorkerServesThenStatusOnlyWhenItChanges() {
        SystemdNotifier n = notifier(Duration.ZERO);
        n.reloadStarted(); // before READY: systemd would end its start job on RELOADING=1
        n.workersChanged(0, 2, 1);
        n.workersChanged(1, 2, 1);
        n.workersChanged(1, 2, 1);
        n.workersChanged(2, 2, 1);
        n.workersChanged(2, 2, 1);
        assertEquals(List.of("STATUS=0 worker(s) serving (2 wanted), generation 1",
                "STATUS=1 worker(s) serving (2 wanted), generation 1",
                "READY=1\nSTATUS=2 worker(s) serving (2 wanted), generation 1\nMAINPID=99"), sent);
    }

    @Test
    void everyReloadEndsInReadyWithItsOutcomeAndTheStatusKeepsIt() {
        SystemdNotifier n = notifier(Duration.ZERO);
        n.workersChanged(1, 1, 1);
        sent.clear();
        n.reloadStarted();
        n.reloadEnded(ReloadOutcome.REFUSED, "reload refused, nothing changed: drover.workers = \"x\" (f:1): bad");
        n.workersChanged(1, 1, 1);
        n.stopping("SIGTERM");
        n.workersChanged(0, 1, 1);
        n.reloadStarted();
        assertEquals(List.of("RELOADING=1\nMONOTONIC_USEC=1234\nSTATUS=reloading",
                "READY=1\nSTATUS=reload refused, nothing changed: drover.workers = \"x\" (f:1): bad",
                "STATUS=1 worker(s) serving (1 wanted), generation 1; last: reload refused, nothing changed",
                "STOPPING=1\nSTATUS=stopping (SIGTERM)"), sent);
    }

    @Test
    void theWatchdogPingsWhenDueAndOnceAfterAStallNotInABurst() {
        SystemdNotifier n = notifier(Duration.ofMillis(200));
        n.loopTurned(0);
        assertEquals(200_000_000, n.nanosUntilDue(0));
        n.loopTurned(100_000_000);
        n.loopTurned(200_000_000);
        n.loopTurned(5_000_000_000L); // the loop was stuck, or the process stopped, for almost 5 s
        n.loopTurned(5_100_000_000L);
        assertEquals(List.of("WATCHDOG=1", "WATCHDOG=1", "WATCHDOG=1"), sent);
        assertEquals(Long.MAX_VALUE, notifier(Duration.ZERO).nanosUntilDue(0));
    }

    @Test
    void theWatchdogIsHalfOfWatchdogUsecAndOnlyForThisPid() {
        assertEquals(Duration.ofMillis(200), SystemdNotifier.watchdogInterval(Map.of("WATCHDOG_USEC", "400000"), 7));
        assertEquals(Duration.ofMillis(200), SystemdNotifier.watchdogInterval(Map.of("WATCHDOG_USEC", "400000",
                "WATCHDOG_PID", "7"), 7));
        assertEquals(Duration.ZERO, SystemdNotifier.watchdogInterval(Map.of("WATCHDOG_USEC", "400000",
                "WATCHDOG_PID", "8"), 7));
        assertEquals(Duration.ZERO, SystemdNotifier.watchdogInterval(Map.of("WATCHDOG_USEC", "soon"), 7));
        assertEquals(Duration.ZERO, SystemdNotifier.watchdogInterval(Map.of(), 7));
    }
}
