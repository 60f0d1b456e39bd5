"""Every process the bench starts, recorded by pid and stopped at the end (TERM, then KILL), also on Ctrl-C, TERM
or an exception; plus the /proc readings the sections need (alive, CPU ticks, RSS, PSS)."""
import os
import signal
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Interrupted(Exception):
    """SIGTERM or SIGHUP reached the bench: unwinds like Ctrl-C, so that the cleanup runs."""


def _on_signal(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


def install_signal_handlers():
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    # Also when started with SIGINT ignored (a background job of a non-interactive shell): Ctrl-C or kill -INT
    # must stop the run and its processes.
    signal.signal(signal.SIGINT, signal.default_int_handler)


def ignore_signals():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def stat_fields(pid):
    """/proc/PID/stat after the command name: fields[0] is the state, fields[11] utime (field 14 of stat(5))."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid):
    """Running and not a zombie."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def ticks(pid, children=False):
    """utime + stime (+ cutime + cstime) in clock ticks, or 0 when the process is gone."""
    fields = stat_fields(pid)
    if fields is None:
        return 0
    return sum(int(x) for x in fields[11:15 if children else 13])


def proc_value(pid, name, file="status"):
    """A field of /proc/PID/status (VmRSS, Threads) or smaps_rollup (Pss) as an int (kB for sizes), or 0."""
    try:
        with open(f"/proc/{pid}/{file}") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pid):
    return proc_value(pid, "VmRSS")


def pss_kb(pid):
    return proc_value(pid, "Pss", "smaps_rollup")


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def children(pid):
    """The live children of pid."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(entry)
            if fields and fields[1] == str(pid) and fields[0] != "Z":
                found.append(int(entry))
    return found


class Processes:
    """The registry. `marker` is a path only this run uses (its private copy of the jars): a process whose command
    line holds it was started by this run, which guards against signalling a reused pid."""

    def __init__(self, say, marker):
        self.say = say
        self.marker = marker
        self.started = []        # Popen objects not yet reaped
        self.workers = set()     # pids of workers (Drover's, the peers') seen in logs or as children
        self.worker_markers = [marker]  # paths in the command lines of workers we know (checks-cost adds a build)
        self.cleaned = False

    def start(self, argv, log_path, env=None, cwd=None):
        """Starts argv with stdout and stderr to log_path, in its own session (Ctrl-C reaches only the bench,
        which then stops everything in order)."""
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=env, cwd=cwd, start_new_session=True)
        self.started.append(proc)
        return proc

    def ours(self, pid, markers=None):
        return any(m in a for a in cmdline(pid) for m in (markers or [self.marker]))

    def note_worker(self, pid):
        self.workers.add(int(pid))

    def send(self, proc, sig):
        """Signals a process we started, unless it has been reaped (then its pid may belong to someone else)."""
        if proc.poll() is None:
            proc.send_signal(sig)
            return True
        return False

    def wait(self, proc, timeout=None):
        """Waits for a process we started and forgets it; returns its exit code (None on timeout)."""
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.forget(proc)
        return rc

    def forget(self, proc):
        if proc in self.started:
            self.started.remove(proc)

    def stop(self, proc, grace_s, sig=signal.SIGTERM):
        """sig (TERM), up to grace_s for it to exit, then KILL; always reaps."""
        if self.send(proc, sig):
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.say(f"pid {proc.pid} did not stop within {grace_s} s after {signal.Signals(sig).name}: SIGKILL")
                proc.kill()
                proc.wait()
        self.forget(proc)

    def cleanup(self, grace_s=15):
        """Stops everything started; then any worker or process of this run still there gets 3 s to exit on its own
        (a worker leaves when its master's link closes) before a SIGKILL by pid. Runs once (the finally of the run,
        or atexit if that was cut short)."""
        if self.cleaned:
            return
        for proc in list(self.started):
            self.stop(proc, grace_s)
        deadline = time.time() + 3
        left = self._leftovers()
        while left and time.time() < deadline:
            time.sleep(0.1)
            left = self._leftovers()
        for pid in sorted(left):
            self.say(f"pid {pid} (started by this run) outlived its parent: SIGKILL")
            self._kill(pid)
        self.cleaned = True

    def _leftovers(self):
        """Live workers we know of, and any live process whose command line holds this run's private path."""
        found = {pid for pid in self.workers if alive(pid) and self.ours(pid, self.worker_markers)}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != os.getpid() and alive(entry) and self.ours(entry):
                found.add(int(entry))
        return found

    @staticmethod
    def _kill(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def pause(seconds):
    """A sleep; a signal's handler interrupts it at once (it raises)."""
    time.sleep(seconds)


def now_ms():
    return int(time.time() * 1000)


def eprint(*args):
    print(*args, file=sys.stderr, flush=True)
