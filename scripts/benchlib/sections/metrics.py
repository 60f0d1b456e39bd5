"""metrics: what observability costs. (a) A master with 16 workers (4 with --quick) and metrics.bind set, its
/metrics scraped once a second in some windows and left alone in the others (same run, interleaved): scrape time and
the master's CPU time, scraped / not scraped. (b) The request-duration histograms: 2 workers measuring request times
vs 2 with -Ddrover.request-times=false, wrk against one and the other in turn: req/s and worker CPU per request."""
import http.client
import os
import statistics
import time
from dataclasses import dataclass, field

from .. import stats, wrk
from ..logs import BenchError
from ..procs import CLK_TCK, alive, children, cmdline, ticks
from .checks_cost import one_run

TIMES_OFF = "-Ddrover.request-times=false"


@dataclass
class Window:
    """One window of the scrape comparison: the master's CPU ticks, its length, the scrapes' times (ms)."""
    scraped: bool
    ticks: int
    seconds: float
    scrape_ms: list = field(default_factory=list)


@dataclass
class Scrape:
    ms: float
    size: int
    samples: int


def worker_options(defaults, heap=None, extra=()):
    """reference.conf's worker-jvm-options with -Xmx replaced by heap (when given), plus extra."""
    kept = [o for o in defaults if not (heap and o.startswith("-Xmx"))]
    return kept + ([heap] if heap else []) + list(extra)


def options_env(options):
    """worker-jvm-options as the environment gives them (a comma-separated list)."""
    if any("," in o for o in options):
        raise BenchError(f"a worker JVM option holds a comma, which DROVER_WORKER_JVM_OPTIONS cannot carry: {options}")
    return {"DROVER_WORKER_JVM_OPTIONS": ",".join(options)}


def orders(rounds, first, second):
    """Each round's order: first second, then second first, ...; neither side always runs after the other."""
    return [(first, second) if r % 2 == 0 else (second, first) for r in range(rounds)]


def ratio_spread(pairs):
    """For (a, b) pairs: sum(a) / sum(b), and the smallest and largest per-pair a / b (None where b is 0)."""
    per = [a / b for a, b in pairs if b > 0]
    total = sum(b for _, b in pairs)
    return (sum(a for a, _ in pairs) / total if total > 0 else None,
            min(per) if per else None, max(per) if per else None)


def count_samples(text):
    """The sample lines of a Prometheus text exposition (neither comments nor blank)."""
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


def scrape(port):
    """GET /metrics on a fresh connection, timed from the connect to the body's last byte."""
    t = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as e:
        raise BenchError(f"GET http://127.0.0.1:{port}/metrics failed: {e}") from None
    finally:
        conn.close()
    ms = (time.perf_counter() - t) * 1000
    if response.status != 200:
        raise BenchError(f"GET http://127.0.0.1:{port}/metrics answered {response.status}, expected 200")
    return Scrape(ms, len(body), count_samples(body.decode()))


def window(m, port, seconds, scraped, last):
    """seconds of the master's life, scraped once a second when `scraped`; last[0] keeps the last scrape."""
    t0, start = ticks(m.pid), time.monotonic()
    times = []
    for i in range(max(1, int(seconds))):
        if scraped:
            last[0] = scrape(port)
            times.append(last[0].ms)
        time.sleep(max(0.0, start + i + 1 - time.monotonic()))
        if not alive(m.pid):
            raise BenchError(f"the master (pid {m.pid}) is gone (see {m.log.path})")
    return Window(scraped, ticks(m.pid) - t0, time.monotonic() - start, times)


def scrape_cost(b):
    k = b.knobs
    port = b.free_port()
    # The workers' default options: the AppCDS archive the bench built for them applies (other options would start
    # a training run in the middle of the windows), so 16 boot in time on a loaded machine.
    m = b.start_drover("metrics-scrape", k.metrics_workers, b.free_port(),
                       ["--metrics-bind", f"127.0.0.1:{port}", "--boot-timeout", f"{k.mastercpu_boot_s:g}s"])
    b.wait_ready(m, k.metrics_workers, k.mastercpu_boot_s)
    time.sleep(k.cpu_settle_s)
    # Unmeasured scrapes first: the first ones run the exposition code interpreted (Prometheus scrapes for good).
    last = [scrape(port) for _ in range(k.metrics_warm_scrapes)][-1:]
    windows = []
    b.cpu.begin()
    for r, order in enumerate(orders(k.metrics_rounds, True, False), 1):
        for scraped in order:
            windows.append(window(m, port, k.metrics_window_s, scraped, last))
            w = windows[-1]
            b.say(f"metrics: round {r} {'scraped' if scraped else 'not scraped'}: master {w.ticks} ticks in "
                  f"{w.seconds:.1f} s" + (f", scrape median {stats.median(w.scrape_ms)} ms" if scraped else ""))
    cpu = b.cpu.end()
    b.stop_drover(m)
    return windows, last[0], cpu


def worker_flags(master):
    """The JVM options of the master's live workers, one list per worker."""
    return [cmdline(pid) for pid in children(master.pid) if "-cp" in cmdline(pid)]


def histogram_cost(b, defaults):
    k = b.knobs
    # No AppCDS on either side: the 'off' side's options differ, so it would get a training run during the rounds.
    no_cds = {"DROVER_CDS_ENABLED": "false"}
    on = b.start_serving("metrics-times-on", 2, env=dict(no_cds, **options_env(worker_options(defaults))))
    off = b.start_serving("metrics-times-off", 2,
                          env=dict(no_cds, **options_env(worker_options(defaults, extra=[TIMES_OFF]))))
    if not all(TIMES_OFF in argv for argv in worker_flags(off)) or any(TIMES_OFF in a for a in worker_flags(on)):
        raise BenchError(f"the workers' command lines do not show {TIMES_OFF} on the 'off' side only")
    d = b.dir("metrics")
    for m in (on, off):
        b.wrk_run(m.url, k.ab_warm_s, os.path.join(d, f"wrk-{m.name}-warmup.txt"))
    rounds = []
    b.cpu.begin()
    for r, order in enumerate(orders(k.metrics_tp_rounds, "on", "off"), 1):
        got = {side: one_run(b, on if side == "on" else off, k.metrics_tp_s, os.path.join(d, f"wrk-{side}-{r}.txt"))
               for side in order}
        rounds.append((got["on"], got["off"]))
        b.say(f"metrics: round {r} ({' '.join(order)}): on {got['on'].rps:.0f} req/s, off {got['off'].rps:.0f} req/s")
    cpu = b.cpu.end()
    for m in (off, on):
        b.stop_drover(m)
    return rounds, cpu


def run(b):
    defaults = b.reference_conf()["drover.worker-jvm-options"]
    windows, last, scrape_cpu = scrape_cost(b)
    rounds, tp_cpu = histogram_cost(b, defaults)
    render(b, windows, last, scrape_cpu, rounds, tp_cpu)


def _fmt(value, digits=3):
    return "n/a" if value is None else f"{value:.{digits}f}"


def render(b, windows, last, scrape_cpu, rounds, tp_cpu):
    k, r = b.knobs, b.report
    scraped = [w for w in windows if w.scraped]
    idle = [w for w in windows if not w.scraped]
    times = [t for w in scraped for t in w.scrape_ms]
    cpu_ratio, cpu_lo, cpu_hi = ratio_spread([(s.ticks, i.ticks) for s, i in zip(scraped, idle)])
    ms_per_s = [w.ticks * 1000 / CLK_TCK / w.seconds for w in windows]
    r.para("### What metrics cost (`metrics`)")
    r.para(f"(a) Drover with `-w {k.metrics_workers}` (default worker options), `--metrics-bind` set, no request "
           f"served; {k.metrics_warm_scrapes} scrapes back to back (not measured: the JIT's warm-up), then "
           f"{k.metrics_rounds} rounds of a {k.metrics_window_s:g} s window with GET /metrics once a second "
           "(a fresh connection each, timed connect to last byte) and one without (order alternating). The master's "
           f"utime + stime (/proc/PID/stat, 1/{CLK_TCK} s ticks) over each window. Processes this run did not start "
           f"used {scrape_cpu.others}% of the CPUs meanwhile.")
    r.table(["figure", "value"], [
        ["scrapes", len(times)],
        ["scrape time ms: median / p99 / max", f"{stats.median(times)} / {_fmt(stats.percentile(times, 99), 1)} / "
                                               f"{_fmt(max(times) if times else None, 1)}"],
        ["scrape size", f"{last.size} bytes, {last.samples} samples"],
        ["master CPU ms/s, scraped windows", " ".join(f"{v:.1f}" for w, v in zip(windows, ms_per_s) if w.scraped)],
        ["master CPU ms/s, windows not scraped", " ".join(f"{v:.1f}" for w, v in zip(windows, ms_per_s)
                                                           if not w.scraped)],
        ["**master CPU scraped / not scraped**", f"**{_fmt(cpu_ratio, 2)}** (rounds: {_fmt(cpu_lo, 2)} .. "
                                                 f"{_fmt(cpu_hi, 2)})"]])
    rps_ratio, rps_lo, rps_hi = ratio_spread([(on.rps, off.rps) for on, off in rounds])
    cpu_req, cpu_req_lo, cpu_req_hi = ratio_spread([(on.cpu_us_per_request, off.cpu_us_per_request)
                                                    for on, off in rounds])
    r.para(f"(b) Two masters of 2 workers each (AppCDS off for both), up together: request times measured (on) vs "
           f"`{TIMES_OFF}` in `worker-jvm-options` (off). Each warmed with {k.ab_warm_s:g} s of wrk, then "
           f"{k.metrics_tp_rounds} rounds of `wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS} -d{k.metrics_tp_s:g}s` GET / "
           "against one and the other (on off, then off on, ...); the workers' CPU time read around each run. "
           f"Processes this run did not start used {tp_cpu.others}% of the CPUs meanwhile.")
    rows = [[i + 1, f"{on.rps:.0f}", f"{off.rps:.0f}", _fmt(on.rps / off.rps if off.rps else None),
             f"{on.cpu_us_per_request:.2f}", f"{off.cpu_us_per_request:.2f}"] for i, (on, off) in enumerate(rounds)]
    rows.append(["median", f"{statistics.median(on.rps for on, _ in rounds):.0f}",
                 f"{statistics.median(off.rps for _, off in rounds):.0f}",
                 _fmt(statistics.median(on.rps / off.rps for on, off in rounds if off.rps)),
                 f"{statistics.median(on.cpu_us_per_request for on, _ in rounds):.2f}",
                 f"{statistics.median(off.cpu_us_per_request for _, off in rounds):.2f}"])
    r.table(["round", "on req/s", "off req/s", "on / off", "on worker CPU µs/request", "off worker CPU µs/request"],
            rows)
    r.para(f"**req/s on / off = {_fmt(rps_ratio)}** (sums; rounds {_fmt(rps_lo)} .. {_fmt(rps_hi)}); worker CPU per "
           f"request on / off = {_fmt(cpu_req)} (rounds {_fmt(cpu_req_lo)} .. {_fmt(cpu_req_hi)}).")
