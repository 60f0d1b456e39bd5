"""A master's log: its lines, the master's own among them (not the workers' output it relays), timestamps, and
waiting for a line with a deadline."""
import re
import time
from datetime import datetime

READY_RE = re.compile(r"worker ([0-9]+) \(pid ([0-9]+)[^)]*\) ready in ([0-9]+) ms")
MAIN_MS_RE = re.compile(r"([0-9]+) ms of it in")
WORKER_PID_RE = re.compile(r"worker [0-9]+ \(pid ([0-9]+)")


class BenchError(Exception):
    """A measurement cannot go on; the message says why and where to look."""


def timestamp_ms(line):
    """Milliseconds since the epoch of a line's "2026-11-26 05:39:29.534" prefix, or None."""
    try:
        return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f").timestamp() * 1000
    except ValueError:
        return None


def is_master_line(line):
    """The master's own line: the workers' output it relays reads "worker N (pid P, gen G) | ..."."""
    return ") | " not in line


class Log:
    def __init__(self, path):
        self.path = path

    def lines(self):
        try:
            with open(self.path, errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def count(self):
        return len(self.lines())

    def master_lines(self, start=0, end=None):
        """The master's own lines start+1..end (1-based, like sed), as (line number, text)."""
        lines = self.lines()
        end = len(lines) if end is None else end
        return [(i + 1, l) for i, l in enumerate(lines[start:end], start) if is_master_line(l)]

    def count_in(self, pattern, start=0, end=None):
        """How many of the master's own lines start+1..end match the regular expression."""
        rx = re.compile(pattern)
        return sum(1 for _, l in self.master_lines(start, end) if rx.search(l))

    def ready_lines(self, start=0):
        return [m for l in self.lines()[start:] for m in [READY_RE.search(l)] if m]

    def worker_pids(self):
        return {int(p) for l in self.lines() for p in WORKER_PID_RE.findall(l)}

    def tail(self, n=20):
        return "\n".join(self.lines()[-n:])

    def wait_for(self, predicate, timeout_s, what, alive=None, poll_s=0.05):
        """Polls predicate() until it returns something true, which it returns. Raises BenchError when alive()
        turns false (the process exited) or after timeout_s."""
        deadline = time.time() + timeout_s
        while True:
            found = predicate()
            if found:
                return found
            if alive is not None and not alive():
                raise BenchError(f"the process exited while waiting for {what} (log {self.path}):\n{self.tail()}")
            if time.time() >= deadline:
                raise BenchError(f"no {what} after {timeout_s} s (log {self.path}):\n{self.tail()}")
            time.sleep(poll_s)
