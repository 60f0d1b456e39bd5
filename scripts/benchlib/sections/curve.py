"""curve: the recycle-cost curve. Throughput under full load (wrk -c64) of Drover with 2 workers that each recycle
every T s (--max-lifetime T, jitter T/10), for T in the chosen intervals, against the same server without recycling,
A and B alternating in the same run (A B, then B A) so that the machine's drift cancels. Each window is a fresh
master (a recycling master recycles between its windows too, and its boots would take CPU from the other side)."""
import math
import os
from dataclasses import dataclass, field

from .. import stats, wrk
from ..logs import BenchError
from .throughput import Run, log_run

DEFAULT_INTERVALS = "5 15 60 300"
QUICK_INTERVALS = "5 15"
WORKERS = 2
RECYCLED = r"\) recycled \(max-lifetime\)"
SPAWNED = r"\) spawned to replace .* \(max-lifetime\)"
DEATHS = r"died unexpectedly|is hung|killed \("


@dataclass
class Window:
    run: Run
    seconds: float
    recycles: int = 0      # "recycled (max-lifetime)" lines: a replacement READY and serving
    spawned: int = 0       # "spawned to replace ... (max-lifetime)" lines: a replacement's boot began

    @property
    def counted(self):
        """The recycles whose cost fell in the window: a boot that began just before the window's start, or one
        that ends after its end, is only partly in it; the mean of both counts weighs those edges by half."""
        return (self.recycles + self.spawned) / 2


@dataclass
class Point:
    """One interval T: its rounds of A (no recycling) and B (--max-lifetime T)."""
    interval_s: float
    window_s: float
    a: list = field(default_factory=list)
    b: list = field(default_factory=list)
    deaths: int = 0

    def ratios(self):
        return [stats.ratio(b.run.wrk.rps, a.run.wrk.rps) for a, b in zip(self.a, self.b)]

    def recycles(self):
        return sum(w.recycles for w in self.b)

    def counted(self):
        return sum(w.counted for w in self.b)

    def cost_s(self):
        """Seconds of full throughput each recycle costs, from the pairs (A, B): requests B did not serve in its
        window relative to A's rate, over the recycles in B's windows; None without a recycle."""
        return cost_per_recycle_s([(a.run.wrk.rps, b.run.wrk.rps, b.seconds, b.counted)
                                   for a, b in zip(self.a, self.b)])


def cost_per_recycle_s(pairs):
    """pairs of (A req/s, B req/s, B's window s, recycles in B's window) -> seconds of A's full throughput lost per
    recycle, or None when no B window had a recycle or an A rate is 0."""
    lost = recycles = 0
    for a_rps, b_rps, seconds, n in pairs:
        if a_rps <= 0:
            return None
        lost += (a_rps - b_rps) * seconds / a_rps
        recycles += n
    return lost / recycles if recycles else None


def projected_ratio(cost_s, interval_s, workers=WORKERS):
    """Throughput ratio with exactly one recycle per worker every interval_s, each costing cost_s of full
    throughput: 1 - cost * workers / interval (not below 0)."""
    if cost_s is None:
        return None
    return max(0.0, 1 - cost_s * workers / interval_s)


def window_s(interval_s, k):
    """B's measured window for an interval: long enough that each worker's first recycle (T after its spawn, the
    window starting after the boot and warm-up) and the replacement's boot and JIT warm-up fall inside it."""
    return max(k.curve_window_min_s, interval_s + k.curve_tail_s)


def intervals(environ=os.environ, quick=False, flag=None):
    """The intervals in seconds, from --intervals, else BENCH_CURVE_INTERVALS ("5 15" or "5,15"); ValueError names
    the bad value."""
    text = flag or environ.get("BENCH_CURVE_INTERVALS") or (QUICK_INTERVALS if quick else DEFAULT_INTERVALS)
    found = []
    for word in text.replace(",", " ").split():
        try:
            value = float(word)
        except ValueError:
            value = -1
        if value < 1:
            raise ValueError(f"curve intervals: '{word}' in '{text}' is not a number of seconds >= 1 (set "
                             "--intervals or BENCH_CURVE_INTERVALS, e.g. \"5 15 60\")")
        found.append(value)
    return found


def one_window(b, name, side, interval_s, seconds):
    k = b.knobs
    flags, env = ((), None) if side == "A" else (
        ["--max-lifetime", f"{interval_s:g}s"], {"DROVER_MAX_LIFETIME_JITTER": f"{interval_s / 10:g}s"})
    m = b.start_serving(name, WORKERS, flags, env)
    try:
        out = os.path.join(b.dir("curve"), name)
        b.wrk_run(m.url, k.curve_warmup_s, out + ".warmup.txt")
        start = m.log.count()
        b.cpu.begin()
        result = b.wrk_run(m.url, seconds, out + ".txt")
        end = m.log.count()
        w = Window(Run(result, b.cpu.end()), result.seconds or seconds, m.log.count_in(RECYCLED, start, end),
                   m.log.count_in(SPAWNED, start, end))
        deaths = m.log.count_in(DEATHS)
    finally:
        b.stop_drover(m)
    log_run(b, f"curve: T={interval_s:g} s {name}", w.run, f", {w.recycles} recycles, {w.spawned} spawned")
    return w, deaths


def point(b, interval_s):
    k = b.knobs
    p = Point(interval_s, window_s(interval_s, k))
    a_s = min(p.window_s, k.curve_a_max_s)
    b.say(f"curve: T = {interval_s:g} s: {k.curve_rounds} rounds; A windows {a_s:g} s, B windows {p.window_s:g} s "
          f"(about {2 * p.window_s / interval_s:.1f} recycles each)")
    for r in range(1, k.curve_rounds + 1):
        order = "AB" if r % 2 else "BA"
        for side in order:
            w, deaths = one_window(b, f"T{interval_s:g}-{side}{r}", side, interval_s,
                                   a_s if side == "A" else p.window_s)
            (p.a if side == "A" else p.b).append(w)
            p.deaths += deaths
        if p.b[-1].recycles == 0:
            b.say(f"curve: WARNING: T = {interval_s:g} s round {r}: no recycle completed in B's window")
    return p


def run(b):
    chosen = intervals(quick=b.quick, flag=getattr(b.args, "intervals", None))
    points = [point(b, t) for t in chosen]
    render(b, points, chosen)


def fmt(x, digits=2):
    return "n/a" if x is None else f"{x:.{digits}f}"


def render(b, points, chosen):
    k, r = b.knobs, b.report
    r.para("### The recycle-cost curve (`curve`)")
    r.para(f"Drover with {WORKERS} workers under `wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS}` (full load). B = "
           "`--max-lifetime T` with `DROVER_MAX_LIFETIME_JITTER` = T/10: one recycle per worker about every T s; A = "
           "the same",
           f"without recycling. Each window is a fresh master: {k.curve_warmup_s:g} s of wrk warm-up (not counted), then "
           f"the measured window: B's = max({k.curve_window_min_s:g} s, T + {k.curve_tail_s:g} s), A's = at most "
           f"{k.curve_a_max_s:g} s.",
           f"Rounds alternate A B, B A ({k.curve_rounds} per T). Recycles = B's `recycled (max-lifetime)` lines in its "
           "windows; counted = their mean with the `spawned to replace` lines (a boot cut by a window's edge counts "
           "half).",
           "**Cost per recycle** = Σ (A − B req/s) × B's window ÷ A req/s ÷ Σ counted: seconds of the whole server's "
           "throughput one recycle takes; **projected** = 1 − cost × 2 ÷ T, the ratio at exactly one recycle per "
           "worker every T s.")
    rows = []
    for p in points:
        ratios = p.ratios()
        a_rps = [round(w.run.wrk.rps) for w in p.a]
        b_rps = [round(w.run.wrk.rps) for w in p.b]
        failed = sum(w.run.wrk.non2xx + w.run.wrk.errors.total for w in p.b)
        per_min = p.recycles() * 60 / sum(w.seconds for w in p.b) / WORKERS if p.b else 0
        rows.append([f"{p.interval_s:g} s", f"{stats.median(a_rps)}", f"{stats.median(b_rps)}",
                     f"**{stats.median([x for x in ratios if x != 'n/a'])}** ({' '.join(ratios)})",
                     f"{p.recycles()} in {len(p.b)} × {p.window_s:g} s ({per_min:.1f}/worker/min; counted "
                     f"{p.counted():g})",
                     fmt(p.cost_s()), fmt(projected_ratio(p.cost_s(), p.interval_s)), failed,
                     " / ".join(f"{w.run.cpu.others}" for w in p.a + p.b), p.deaths])
    r.table(["T (max-lifetime)", "A req/s (median)", "B req/s (median)", "B/A median (per round)", "recycles in B",
             "cost per recycle, s", "projected B/A at 1 per worker per T", "failed requests in B",
             "others' CPU % (A… / B…)", "unplanned deaths"], rows)
    r.para(f"Intervals: {' '.join(f'{t:g}' for t in chosen)} s (`--intervals` or `BENCH_CURVE_INTERVALS`).")
