"""wrk, the load generator: its command line, and its output parsed into a typed result."""
import math
import re
from dataclasses import dataclass, field

THREADS = 2
CONNECTIONS = 64

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def duration_ms(text):
    """wrk's durations ("812.00us", "1.20ms", "2.01s", "1.02m") in milliseconds."""
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)?", text.strip().rstrip(","))
    if not m:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m.group(1)) * _UNIT_MS[m.group(2) or "ms"]


@dataclass(frozen=True)
class SocketErrors:
    connect: int = 0
    read: int = 0
    write: int = 0
    timeout: int = 0

    @property
    def total(self):
        return self.connect + self.read + self.write + self.timeout

    def __str__(self):
        return f"connect {self.connect}, read {self.read}, write {self.write}, timeout {self.timeout}"


@dataclass(frozen=True)
class WrkResult:
    """One wrk run. Latencies in ms; seconds is how long wrk ran (less than -d when stopped with SIGINT)."""
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    seconds: float = 0.0
    non2xx: int = 0
    errors: SocketErrors = field(default_factory=SocketErrors)

    # The figures as the tables print them.
    @property
    def rps_text(self):
        return f"{self.rps:.0f}"

    @property
    def p50_text(self):
        return f"{self.p50_ms:.2f}"

    @property
    def p99_text(self):
        return f"{self.p99_ms:.2f}"

    @property
    def seconds_text(self):
        return f"{self.seconds:.2f}"

    @property
    def whole_seconds(self):
        """The run's length rounded up to whole seconds (the length of a comparison run)."""
        whole = int(self.seconds)
        return whole + 1 if whole < self.seconds else whole

    @property
    def clean(self):
        return self.non2xx == 0 and self.errors.total == 0

    @property
    def failed_percent(self):
        """(non-2xx + socket errors) / requests, in %, or "n/a"."""
        if self.requests <= 0:
            return "n/a"
        return f"{(self.non2xx + self.errors.total) / self.requests * 100:.2f}"


def parse(text):
    """The figures of wrk's --latency output; missing lines leave zeros (wrk omits the error lines when all are 0)."""
    values = {}
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        if words[0] == "Requests/sec:":
            values["rps"] = float(words[1])
        elif words[0] == "50%":
            values["p50_ms"] = duration_ms(words[1])
        elif words[0] == "99%":
            values["p99_ms"] = duration_ms(words[1])
        elif len(words) >= 4 and words[1:3] == ["requests", "in"]:
            values["requests"] = int(words[0])
            values["seconds"] = duration_ms(words[3]) / 1000
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            values["non2xx"] = int(words[-1])
        elif words[0] == "Socket" and words[1] == "errors:":
            counts = dict(re.findall(r"(connect|read|write|timeout) (\d+)", line))
            values["errors"] = SocketErrors(**{k: int(v) for k, v in counts.items()})
    return WrkResult(**values)


def command(url, seconds, latency=True, connections=CONNECTIONS):
    """wrk's command line; -d takes whole seconds only ("-d2.5s" is an error), so a fraction is rounded up."""
    argv = ["wrk", f"-t{min(THREADS, connections)}", f"-c{connections}", f"-d{max(1, math.ceil(seconds))}s"]
    return argv + (["--latency"] if latency else []) + [url]
