"""memory: the idle footprint of 4 workers: the master's VmRSS, the workers' RSS/PSS (ctl status and /proc); with
the AppCDS archive, then (full runs) without."""
import json
import os
import time
from dataclasses import dataclass, field

from .. import stats
from ..procs import proc_value, pss_kb, rss_kb
from . import with_and_without_archive


@dataclass
class WorkerMemory:
    id: int
    pid: int
    ctl_rss_bytes: int
    ctl_pss_bytes: int
    proc_rss_kb: int
    proc_pss_kb: int


@dataclass
class MemorySeries:
    label: str
    master_pid: int = 0
    master_threads: int = 0
    master_rss_kb: int = 0
    master_pss_kb: int = 0
    master_rss_later_kb: int = 0
    workers: list = field(default_factory=list)

    @property
    def mean_worker_pss_mb(self):
        return f"{sum(w.proc_pss_kb for w in self.workers) / 4 / 1024:.1f}"


def run(b):
    with_and_without_archive(b, "memory", measure, render)


def measure(b, label, dirname, env=None):
    k = b.knobs
    m = b.start_drover(dirname, 4, b.free_port(), env=env)
    b.wait_ready(m, 4, 90)
    b.say(f"memory: workers ready; idle for {k.idle_s:g} s, then read the master; ctl status at {k.pss_fresh_s:g} s")
    time.sleep(k.idle_s)
    # The master first: ctl talks to it, which could move its RSS a little.
    s = MemorySeries(label, m.pid, proc_value(m.pid, "Threads"), rss_kb(m.pid), pss_kb(m.pid))
    if k.pss_fresh_s > k.idle_s:
        time.sleep(k.pss_fresh_s - k.idle_s)
    s.master_rss_later_kb = rss_kb(m.pid)
    status = b.status(m)
    with open(os.path.join(b.run, dirname, "status.json"), "w") as f:
        json.dump(status, f)
    for w in status["workers"]:
        s.workers.append(WorkerMemory(w["id"], w["pid"], w["rss_bytes"], w["pss_bytes"], rss_kb(w["pid"]),
                                      pss_kb(w["pid"])))
    b.stop_drover(m)
    return s


def render(b, s):
    k, r = b.knobs, b.report
    r.para(f"### Idle memory, {s.label} (`memory`)")
    r.para(f"Drover with 4 workers, no request served. Master: {k.idle_s:g} s after all workers were READY, VmRSS from",
           f"/proc/PID/status and PSS from /proc/PID/smaps_rollup. Workers: {k.pss_fresh_s:g} s after READY, "
           "`rss_bytes`/`pss_bytes`",
           "of `drover ctl status --json` (a fresh reading) and, right after, the same read by the bench from /proc.",
           f"MB = 2^20 bytes. **Mean worker PSS (/proc): {s.mean_worker_pss_mb} MB.**")
    rows = [[f"master (pid {s.master_pid}, {s.master_threads} threads)", "", "", stats.kb_mb(s.master_rss_kb),
             stats.kb_mb(s.master_pss_kb)]]
    rows += [[f"worker {w.id} (pid {w.pid})", stats.mb(w.ctl_rss_bytes), stats.mb(w.ctl_pss_bytes),
              stats.kb_mb(w.proc_rss_kb), stats.kb_mb(w.proc_pss_kb)] for w in s.workers]
    r.table(["process", "RSS MB (ctl)", "PSS MB (ctl)", "RSS MB (/proc)", "PSS MB (/proc)"], rows)
    r.para(f"Master VmRSS again at {k.pss_fresh_s:g} s, before the ctl call: {stats.kb_mb(s.master_rss_later_kb)} MB.")
