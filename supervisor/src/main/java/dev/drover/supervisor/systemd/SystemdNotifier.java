package dev.drover.supervisor.systemd;

import dev.drover.supervisor.arbiter.LifecycleListener;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * What the master tells systemd (sd_notify), for Type=notify and Type=notify-reload units: READY=1 once every wanted
 * worker of the first generation serves; RELOADING=1 with MONOTONIC_USEC at each reload and READY=1 when it ends,
 * however it ends; STOPPING=1; STATUS= as the workers change; WATCHDOG=1 from the arbiter's loop itself, so a stuck
 * loop stops the pings and systemd restarts the master. Runs on the arbiter thread.
 */
public final class SystemdNotifier implements LifecycleListener {

    private final Consumer<String> socket;
    private final long pid;
    private final long watchdogInterval;
    private final LongSupplier monotonicMicros;

    private long nextPing;
    private boolean ready;
    private boolean stopping;
    private String lastStatus = "";
    /** How the last reload ended, short ("reload to generation 3 abandoned"), for STATUS; empty before any. */
    private String lastReload = "";

    /**
     * {@code watchdogInterval}: how often to ping (half of WATCHDOG_USEC), zero for never; {@code monotonicMicros}:
     * CLOCK_MONOTONIC in µs, which systemd compares with the time it sent SIGHUP; {@code now}: the loop's clock.
     */
    public SystemdNotifier(Consumer<String> socket, long pid, Duration watchdogInterval, LongSupplier monotonicMicros,
                           long now) {
        this.socket = socket;
        this.pid = pid;
        this.watchdogInterval = watchdogInterval.toNanos();
        this.monotonicMicros = monotonicMicros;
        this.nextPing = now;
    }

    /**
     * Half of WATCHDOG_USEC (sd_watchdog_enabled's advice), if it is set and WATCHDOG_PID is unset or this pid;
     * zero otherwise. A malformed value turns the watchdog off, as sd_watchdog_enabled does.
     */
    public static Duration watchdogInterval(Map<String, String> env, long pid) {
        String usec = env.get("WATCHDOG_USEC");
        String forPid = env.get("WATCHDOG_PID");
        if (usec == null || (forPid != null && !forPid.equals(Long.toString(pid)))) {
            return Duration.ZERO;
        }
        try {
            long micros = Long.parseLong(usec);
            return micros > 0 ? Duration.ofNanos(micros * 1000 / 2) : Duration.ZERO;
        } catch (NumberFormatException e) {
            return Duration.ZERO;
        }
    }

    @Override
    public void workersChanged(int serving, int wanted, int generation) {
        if (stopping) {
            return;
        }
        String status = serving + " worker(s) serving (" + wanted + " wanted), generation " + generation
                + (lastReload.isEmpty() ? "" : "; last: " + lastReload);
        if (!ready && wanted > 0 && serving >= wanted) {
            ready = true;
            send("READY=1\nSTATUS=" + status + "\nMAINPID=" + pid, status);
        } else if (!status.equals(lastStatus)) {
            send("STATUS=" + status, status);
        }
    }

    @Override
    public void reloadStarted() {
        // Before READY systemd does not reload the unit (it sends no HUP), and RELOADING=1 would end its start job.
        if (ready && !stopping) {
            send("RELOADING=1\nMONOTONIC_USEC=" + monotonicMicros.getAsLong() + "\nSTATUS=reloading", "reloading");
        }
    }

    @Override
    public void reloadEnded(ReloadOutcome outcome, String summary) {
        String line = summary.replace('\n', ' ');
        int colon = line.indexOf(':');
        lastReload = colon < 0 ? line : line.substring(0, colon);
        if (ready && !stopping) {
            send("READY=1\nSTATUS=" + line, line);
        }
    }

    @Override
    public void stopping(String why) {
        if (!stopping) {
            stopping = true;
            String status = "stopping (" + why.replace('\n', ' ') + ")";
            send("STOPPING=1\nSTATUS=" + status, status);
        }
    }

    @Override
    public void loopTurned(long now) {
        if (watchdogInterval > 0 && now - nextPing >= 0) {
            socket.accept("WATCHDOG=1");
            // From now, not from the missed due time: after a stall (SIGSTOP) one ping, not a burst of catch-ups.
            nextPing = now + watchdogInterval;
        }
    }

    @Override
    public long nanosUntilDue(long now) {
        return watchdogInterval > 0 ? nextPing - now : Long.MAX_VALUE;
    }

    private void send(String message, String status) {
        lastStatus = status;
        socket.accept(message);
    }
}
