"""The reload probe: a thread that sends GET / on a fresh connection every few milliseconds and records which worker
answered (the X-Worker-Pid header of Drover's sample app and of scripts/peers/hello_wsgi.py), so that a reload is
timed from outside, the same way for every server: from the HUP until every worker of the new generation answers."""
import http.client
import threading
import time
from dataclasses import dataclass

INTERVAL_S = 0.005   # between two probes; each uses a new connection, so any worker may accept it


@dataclass(frozen=True)
class Sample:
    t: float      # time.time() when the answer arrived
    pid: int      # the worker that answered; 0 for a failure (no answer, not 200, no pid header)


@dataclass(frozen=True)
class Answered:
    """When the new generation answered, ms after the HUP (None: not within the samples)."""
    first_ms: int = None      # the first answer from a worker that was not there before the HUP
    all_ms: int = None        # the answer that made `need` distinct new workers
    new_pids: tuple = ()
    failures: int = 0         # probes after the HUP that got no 200 with a pid


def answered(samples, old_pids, t_hup, need):
    """Answered for the samples after t_hup: a pid not in old_pids is a worker of the new generation."""
    seen, first, done, failures = [], None, None, 0
    for s in samples:
        if s.t < t_hup:
            continue
        if s.pid == 0:
            failures += 1
            continue
        if s.pid in old_pids or s.pid in seen:
            continue
        seen.append(s.pid)
        ms = round((s.t - t_hup) * 1000)
        first = ms if first is None else first
        if len(seen) == need and done is None:
            done = ms
    return Answered(first, done, tuple(seen), failures)


def pid_of(response):
    """The X-Worker-Pid of a 200 response, or 0."""
    if response.status != 200:
        return 0
    value = response.getheader("X-Worker-Pid", "")
    return int(value) if value.strip().isdigit() else 0


class Probe:
    """start() ... stop(); samples() at any time. One request at a time, on its own connection (Connection: close)."""

    def __init__(self, port, interval_s=INTERVAL_S):
        self.port, self.interval_s = port, interval_s
        self._samples, self._lock = [], threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"probe-{port}", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(5)

    def samples(self):
        with self._lock:
            return list(self._samples)

    def _one(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/", headers={"Connection": "close"})
            response = conn.getresponse()
            response.read()
            return pid_of(response)
        except (OSError, http.client.HTTPException, ValueError):
            return 0
        finally:
            conn.close()

    def _loop(self):
        while not self._stop.is_set():
            pid = self._one()
            with self._lock:
                self._samples.append(Sample(time.time(), pid))
            self._stop.wait(self.interval_s)
