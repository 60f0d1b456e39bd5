"""warmup: req/s right after both workers were recycled (`ctl recycle`) vs warm, without and with drover.warmup."""
import os
import re
from dataclasses import dataclass

from .. import stats, wrk

WARMUP_RE = re.compile(r"warm-up: [0-9]+ request\(s\) in ([0-9]+) ms")


@dataclass
class WarmupSeries:
    label: str
    fresh: wrk.WrkResult     # right after the recycle
    warm: wrk.WrkResult
    warmup_ms: list          # each replacement's warm-up time (master's log)


def run(b):
    k = b.knobs
    off = measure(b, "no warm-up", "warmup-off")
    on = measure(b, f"warm-up of {k.warmup_requests} requests", "warmup-on",
                 ["--warmup-requests", str(k.warmup_requests)])
    render(b, off, on)


def measure(b, label, dirname, flags=()):
    """Drover with 2 workers, warmed by wrk; `ctl recycle 1` then `recycle 2` with no load; once both old workers
    have drained, wrk for dip_s at once ("right after"), warmup_s more, then dip_s again ("warm")."""
    k = b.knobs
    m = b.start_serving(dirname, 2, flags)
    out = os.path.join(b.run, dirname)
    b.wrk_run(m.url, k.warmup_s, os.path.join(out, "wrk-before.txt"))
    start = m.log.count()
    for wid in ("1", "2"):
        b.ctl(m, "recycle", wid)
    m.log.wait_for(lambda: m.log.count_in("stopped after draining", start) >= 2, 90, "end of the 2 recycles",
                   alive=lambda: m.proc.poll() is None)
    b.note_workers(m.log)
    times = [int(x) for line in m.log.lines()[start:] for x in WARMUP_RE.findall(line)]
    fresh = b.wrk_run(m.url, k.dip_s, os.path.join(out, "wrk-fresh.txt"))
    b.wrk_run(m.url, k.warmup_s, os.path.join(out, "wrk-between.txt"))
    warm = b.wrk_run(m.url, k.dip_s, os.path.join(out, "wrk-warm.txt"))
    b.say(f"warmup: {label}: right after the recycle {fresh.rps_text} {fresh.p99_text} (req/s, p99 ms), warm "
          f"{warm.rps_text} {warm.p99_text}; warm-up times: {' '.join(map(str, times)) or 'none'}")
    b.stop_drover(m)
    return WarmupSeries(label, fresh, warm, times)


def render(b, off, on):
    k, r = b.knobs, b.report
    r.para("### Throughput right after a recycle, with and without `drover.warmup` (`warmup`)")
    r.para(f"Drover with 2 workers, warmed by {k.warmup_s:g} s of wrk; then `drover ctl recycle 1` and `recycle 2` "
           "with no load (each",
           "replacement boots, and warms up if asked, before its old worker drains). Once both old workers are gone:",
           f"`wrk -d{k.dip_s:g}s` at once (\"right after\"), {k.warmup_s:g} s more wrk, then `wrk -d{k.dip_s:g}s` "
           "again (\"warm\"). Same",
           "wrk options as above. The ratio right after ÷ warm is the dip a recycle leaves behind.")
    rows = []
    for label, s, times in (("no warm-up", off, ""), (f"`--warmup-requests {k.warmup_requests}`", on,
                                                       " ".join(map(str, on.warmup_ms)))):
        rows.append([label, s.fresh.rps_text, s.fresh.p99_text, s.warm.rps_text, s.warm.p99_text,
                     stats.ratio(s.fresh.rps_text, s.warm.rps_text), times])
    r.table(["workers", "right after: req/s", "p99 ms", "warm: req/s", "p99 ms", "right after ÷ warm",
             "warm-up time per worker, ms"], rows)
