"""checks-cost: throughput of two builds of Drover side by side (the HTTP hardening's cost): the sample app with 2
workers from each, started together, then wrk against one and the other in turn (A B, then B A, ...), so that both
see the same machine at the same time. A = --before DIR, a checkout whose jars are built; B = --after DIR, by default
this checkout (from the run's copy of its jars). Both without the AppCDS archive (its training run would compete
with the first rounds). The workers' CPU time per request is less disturbed by other load than req/s."""
import os
import statistics
from dataclasses import dataclass, field

from .. import procs, wrk
from ..harness import APP, Master
from ..logs import Log


@dataclass
class AbRound:
    rps: float
    cpu_us_per_request: float


@dataclass
class AbResult:
    a: list = field(default_factory=list)   # AbRound per round
    b: list = field(default_factory=list)


def start_build(b, name, home):
    """A master from another checkout's scripts/drover (its own jars, as built there)."""
    port = b.free_port()
    d = b.dir("checks-cost")
    log, pidfile = os.path.join(d, f"{name}.log"), os.path.join(d, f"{name}.pid")
    argv = [os.path.join(home, "scripts", "drover"), "-w", "2", "-b", f"127.0.0.1:{port}", "-p", pidfile, "--classpath",
            os.path.join(home, "sample-app", "target", "sample-app.jar"), APP]
    proc = b.processes.start(argv, log, env=dict(b.env, DROVER_CDS_ENABLED="false"))
    b.processes.worker_markers.append(os.path.abspath(home) + "/")
    master = Master(name, proc, Log(log), pidfile, port)
    b.masters.append(master)
    b.say(f"checks-cost: {name}: {home}, master pid {proc.pid}, {master.url}")
    b.wait_ready(master, 2, 60)
    return master


def worker_ticks(master):
    return sum(procs.ticks(pid) for pid in procs.children(master.pid))


def one_run(b, master, seconds, out):
    before = worker_ticks(master)
    result = b.wrk_run(master.url, seconds, out)
    used = worker_ticks(master) - before
    return AbRound(result.rps, used * 1e6 / procs.CLK_TCK / max(1, result.requests))


def run(b):
    k, args = b.knobs, b.args
    after = os.path.abspath(args.after or b.home)
    a = start_build(b, "A", os.path.abspath(args.before))
    bm = (b.start_serving("checks-cost-b", 2, env={"DROVER_CDS_ENABLED": "false"}) if after == b.home
          else start_build(b, "B", after))
    d = b.dir("checks-cost")
    for m in (a, bm):
        b.wrk_run(m.url, k.ab_warm_s, os.path.join(d, f"wrk-{m.name}-warmup.txt"))
    res = AbResult()
    for r in range(1, k.ab_rounds + 1):
        # A first in odd rounds, B first in even ones: neither always runs second.
        order = [("a", a), ("b", bm)] if r % 2 else [("b", bm), ("a", a)]
        for side, m in order:
            getattr(res, side).append(one_run(b, m, k.ab_seconds, os.path.join(d, f"wrk-{side}-{r}.txt")))
        b.say(f"checks-cost: round {r}: A {res.a[-1].rps:.0f} req/s, B {res.b[-1].rps:.0f} req/s")
    for m in (bm, a):
        b.stop_drover(m)
    render(b, res, os.path.abspath(args.before), after)


def render(b, res, before, after):
    k, r = b.knobs, b.report
    r.para("### What the checks cost: two builds side by side (`checks-cost`)")
    r.para(f"A = `{before}`, B = `{after}`; 2 workers each, AppCDS off for both; each warmed with {k.ab_warm_s:g} s of "
           f"wrk, then {k.ab_rounds} rounds of `wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS} -d{k.ab_seconds:g}s` against "
           "one and the other",
           "(A B, then B A, ...); the workers' CPU time (/proc/PID/stat) is read around every run.")
    rows = [[i + 1, f"{x.rps:.0f}", f"{y.rps:.0f}", f"{x.cpu_us_per_request:.2f}", f"{y.cpu_us_per_request:.2f}"]
            for i, (x, y) in enumerate(zip(res.a, res.b))]
    for name, f in (("mean", statistics.mean), ("median", statistics.median)):
        rows.append([name, f"{f(x.rps for x in res.a):.0f}", f"{f(y.rps for y in res.b):.0f}",
                     f"{f(x.cpu_us_per_request for x in res.a):.2f}", f"{f(y.cpu_us_per_request for y in res.b):.2f}"])
    r.table(["round", "A req/s", "B req/s", "A worker CPU µs/request", "B worker CPU µs/request"], rows)
    mean_a, mean_b = statistics.mean(x.rps for x in res.a), statistics.mean(y.rps for y in res.b)
    cpu_a = statistics.mean(x.cpu_us_per_request for x in res.a)
    cpu_b = statistics.mean(y.cpu_us_per_request for y in res.b)
    per_round = statistics.median(y.rps / x.rps for x, y in zip(res.a, res.b) if x.rps > 0)
    r.para(f"req/s B/A = {mean_b / mean_a:.4f} (means), {per_round:.4f} (median of the rounds' ratios); worker CPU "
           f"per request B/A = {cpu_b / cpu_a:.4f} (means)")
