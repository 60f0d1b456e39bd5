"""throughput: GET / with wrk: the sample app in one standalone JVM (A, the baseline) vs Drover with 2 workers (B)
vs Drover with memory limits, i.e. leak evidence on (C); rounds A/B/C, B/C/A, C/A/B."""
import json
import os
from dataclasses import dataclass

from .. import stats, wrk
from ..cpu import NCPU, CpuShare
from ..harness import APP
from ..procs import pss_kb, rss_kb


@dataclass
class Run:
    """One measured wrk run and how busy the machine was meanwhile."""
    wrk: wrk.WrkResult
    cpu: CpuShare


def measure_run(b, url, out, warmup_s, seconds):
    """wrk for warmup_s (not counted), then for seconds, measured; wrk's output in out.warmup.txt and out.txt."""
    b.wrk_run(url, warmup_s, out + ".warmup.txt")
    b.cpu.begin()
    result = b.wrk_run(url, seconds, out + ".txt")
    return Run(result, b.cpu.end())


def log_run(b, prefix, run, extra=""):
    w, c = run.wrk, run.cpu
    b.say(f"{prefix}: {w.rps_text} req/s, p50 {w.p50_text} ms, p99 {w.p99_text} ms, {w.requests} requests, "
          f"non-2xx {w.non2xx}, socket errors {w.errors.total}{extra}; CPU: ours {c.ours}%, others {c.others}%, "
          f"steal {c.steal}%")
    if not w.clean:
        b.say(f"{prefix}: WARNING: errors: non-2xx {w.non2xx}, socket errors {w.errors}")


def baseline_argv(b, master, port):
    """The standalone JVM: a worker's built-in options (read from a live worker of `master`) and the configured
    worker-jvm-options (reference.conf's defaults), the worker's classpath, and the runtime's StandaloneMain."""
    java, options, classpath, main = b.worker_command(master)
    configured = b.reference_conf()["drover.worker-jvm-options"]
    first = configured[0] if configured else None
    built_in = options[:options.index(first)] if first in options else [o for o in options if o.startswith("-D")]
    standalone = main.rsplit(".", 1)[0] + ".StandaloneMain"
    return [java, *built_in, *configured, "-cp", classpath, standalone, f"127.0.0.1:{port}", APP]


def run(b):
    k = b.knobs
    bm = b.start_serving("throughput", 2)
    port_a = b.free_port()
    a = b.processes.start(baseline_argv(b, bm, port_a), os.path.join(b.dir("throughput"), "standalone.log"))
    b.say(f"throughput: standalone JVM pid {a.pid}, http://127.0.0.1:{port_a}/ (log {b.run}/throughput/standalone.log)")
    b.wait_http(port_a, a, 60)
    # C: B plus what memory limits switch on for leak reports (a baseline class histogram 2 s after READY); the
    # limit itself is never reached. What every worker does anyway (memory readings in each STATS) is in B too.
    cm = b.start_serving("throughput-c", 2, ["--memory-soft-limit", "4G"], {"DROVER_LEAK_REPORTS_BASELINE_AFTER": "2s"})
    urls = {"A": f"http://127.0.0.1:{port_a}/", "B": bm.url, "C": cm.url}
    b.say(f"throughput: A = standalone :{port_a}, B = Drover :{bm.port}, C = Drover with memory limits :{cm.port}; "
          f"{k.rounds} rounds of A, B, C, each {k.warmup_s:g} s warm-up + {k.duration_s:g} s measured")
    runs = {}
    for r in range(1, k.rounds + 1):
        # The order rotates (A B C, B C A, C A B): whatever the position in a round does to a side (the one after
        # wrk's longest pause, the one after another side's JIT), each side gets each position once in 3 rounds.
        order = "ABC"[(r - 1) % 3:] + "ABC"[:(r - 1) % 3]
        for side in order:
            out = os.path.join(b.run, "throughput", f"wrk-{side}-{r}")
            runs[side, r] = measure_run(b, urls[side], out, k.warmup_s, k.duration_s)
            log_run(b, f"throughput: round {r} {side}", runs[side, r])
    # Memory after load, and how the connections spread over the workers.
    mem = {"a_rss": rss_kb(a.pid), "a_pss": pss_kb(a.pid), "m_rss": rss_kb(bm.pid), "m_pss": pss_kb(bm.pid)}
    status = b.status(bm)
    with open(os.path.join(b.run, "throughput", "status.json"), "w") as f:
        json.dump(status, f)
    mem["w_rss"] = sum(rss_kb(w["pid"]) for w in status["workers"])
    mem["w_pss"] = sum(pss_kb(w["pid"]) for w in status["workers"])
    baselines = sum(1 for line in cm.log.lines() if "baseline class histogram taken" in line)
    b.stop_drover(cm)
    b.stop_drover(bm)
    b.say(f"stopping the standalone JVM {a.pid} (SIGTERM)")
    b.processes.stop(a, 10)
    render(b, runs, mem, status, baselines)


def render(b, runs, mem, status, baselines):
    k, r = b.knobs, b.report
    r.para("### Throughput, GET / (`throughput`)")
    r.para(f"`wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS} -d{k.duration_s:g}s --latency` on loopback, keep-alive. A = the "
           "sample app in one standalone JVM",
           "(`StandaloneMain`, the workers' JVM options); B = Drover with 2 workers; C = B with memory limits set",
           "(`--memory-soft-limit 4G`, never reached), so each worker also takes its leak-report baseline class "
           "histogram",
           f"2 s after READY (`drover.leak-reports.baseline-after`; {baselines} taken). All stay up for all rounds; "
           "each",
           f"measurement follows its own {k.warmup_s:g} s wrk warm-up (not counted). Order: A1 B1 C1, B2 C2 A2, C3 A3 "
           "B3. Ratios of req/s.")
    rows, ratios, c_ratios = [], [], []
    for n in range(1, k.rounds + 1):
        a, bb, c = (runs[s, n].wrk for s in "ABC")
        ratios.append(stats.ratio(bb.rps_text, a.rps_text))
        c_ratios.append(stats.ratio(c.rps_text, bb.rps_text))
        errs = " / ".join(str(w.non2xx + w.errors.total) for w in (a, bb, c))
        others = " / ".join(str(runs[s, n].cpu.others) for s in "ABC")
        rows.append([n, a.rps_text, a.p50_text, a.p99_text, bb.rps_text, bb.p50_text, bb.p99_text, ratios[-1],
                     c.rps_text, c.p99_text, c_ratios[-1], errs, others])
    r.table(["round", "A req/s", "A p50 ms", "A p99 ms", "B req/s", "B p50 ms", "B p99 ms", "B/A", "C req/s",
             "C p99 ms", "C/B", "non-2xx + socket errors (A / B / C)", "others' CPU % (A / B / C)"], rows)
    r.para(f"**Median ratio B/A: {stats.median(_num(ratios))}** (per round: {' '.join(ratios)}). **Median C/B: "
           f"{stats.median(_num(c_ratios))}**",
           f"(per round: {' '.join(c_ratios)}): what leak evidence costs beyond what every worker does. \"Others' "
           f"CPU\": % of the {NCPU} CPUs used during",
           "the measurement by processes this run did not start (other people's builds and tests); 0 means we had the "
           "machine.")
    per_worker = ", ".join(f"worker {w['id']}: {w['requests']}" for w in status["workers"])
    r.para(f"Requests per worker over the whole section (ctl status): {per_worker}.")
    r.para(f"Memory after the load (from /proc): standalone JVM RSS {stats.kb_mb(mem['a_rss'])} MB, PSS "
           f"{stats.kb_mb(mem['a_pss'])} MB;",
           f"Drover master RSS {stats.kb_mb(mem['m_rss'])} MB, PSS {stats.kb_mb(mem['m_pss'])} MB; 2 workers together "
           f"RSS {stats.kb_mb(mem['w_rss'])} MB, PSS {stats.kb_mb(mem['w_pss'])} MB;",
           f"Drover in all (PSS, master + workers) {stats.kb_mb(mem['m_pss'] + mem['w_pss'])} MB.")


def _num(texts):
    """The numeric ones of a list of figures ("n/a" left out)."""
    return [t for t in texts if t != "n/a"]
