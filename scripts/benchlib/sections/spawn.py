"""spawn: worker spawn-to-READY time. `drover ctl recycle` the oldest worker again and again, read the replacement's
"ready in N ms"; with the AppCDS archive, then (full runs) without."""
import time
from dataclasses import dataclass, field

from .. import stats
from ..cpu import NCPU
from ..logs import BenchError, MAIN_MS_RE
from ..procs import alive
from . import with_and_without_archive


@dataclass
class SpawnSeries:
    label: str
    startup: list = field(default_factory=list)        # startup spawns -> READY, ms (master's log)
    startup_main: list = field(default_factory=list)   # ... of which in the worker's main()
    replacement: list = field(default_factory=list)    # replacement spawn -> READY, ms
    replacement_main: list = field(default_factory=list)
    recycle_to_ready: list = field(default_factory=list)  # ctl recycle -> READY line seen by the bench, ms
    backoffs: int = 0
    cpu: object = None


def run(b):
    with_and_without_archive(b, "spawn", measure, render)


def _ready(match):
    """(id, pid, ms, main ms or None) of a READY line's match."""
    main = MAIN_MS_RE.search(match.string)
    return match.group(1), int(match.group(2)), int(match.group(3)), int(main.group(1)) if main else None


def measure(b, label, dirname, env=None):
    k = b.knobs
    s = SpawnSeries(label)
    m = b.start_drover(dirname, 2, b.free_port(), env=env)
    b.wait_ready(m, 2, 60)
    ready_at, pid_of = {}, {}
    for match in m.log.ready_lines():
        wid, pid, ms, main = _ready(match)
        s.startup.append(ms)
        if main is not None:
            s.startup_main.append(main)
        ready_at[wid], pid_of[wid] = time.time(), pid
    b.say(f"spawn: startup workers ready in {_join(s.startup)} ms; now {k.spawn_kills} recycles "
          "(drover ctl recycle), one at a time")
    b.cpu.begin()
    for i in range(1, k.spawn_kills + 1):
        # The last replacement gets settle_s to finish its start-up work (JIT), so it does not compete with the next.
        time.sleep(max(0, max(ready_at.values()) + k.settle_s - time.time()))
        victim = min(ready_at, key=ready_at.get)
        wid, pid = recycle_once(b, m, s, victim, pid_of.pop(victim))
        del ready_at[victim]
        ready_at[wid], pid_of[wid] = time.time(), pid
        b.say(f"spawn: {i}/{k.spawn_kills}: recycled worker {victim}; replacement worker {wid} (pid {pid}) ready in "
              f"{s.replacement[-1]} ms (ctl to ready seen: {s.recycle_to_ready[-1]} ms)")
    s.cpu = b.cpu.end()
    s.backoffs = sum(1 for line in m.log.lines() if "dying young" in line)
    b.stop_drover(m)
    return s


def recycle_once(b, m, s, victim, old_pid):
    """`drover ctl recycle victim`, its replacement's READY line, then the old worker's exit; (id, pid) of the
    replacement."""
    before = m.log.count()
    t_kill = time.time()
    b.ctl(m, "recycle", victim)
    match = m.log.wait_for(lambda: next(iter(m.log.ready_lines(before)), None), 60,
                           "replacement ready after ctl recycle", alive=lambda: m.proc.poll() is None, poll_s=0.02)
    t = time.time()
    wid, pid, ms, main = _ready(match)
    s.replacement.append(ms)
    s.recycle_to_ready.append(round((t - t_kill) * 1000))
    if main is not None:
        s.replacement_main.append(main)
    # The old worker drains and exits: wait for it, so that the next spawn has the machine to itself.
    while alive(old_pid):
        if time.time() - t > 30:
            raise BenchError(f"worker pid {old_pid} still there 30 s after its replacement was ready")
        time.sleep(0.02)
    b.note_workers(m.log)
    return wid, pid


def render(b, s):
    k, r = b.knobs, b.report
    r.para(f"### Worker spawn to READY, {s.label} (`spawn`)")
    r.para(f"Drover with 2 workers; {k.spawn_kills} times one after the other: `drover ctl recycle` the oldest worker, "
           "wait for the",
           "replacement's \"ready in N ms\" log line and for the old worker's exit; "
           f"{k.settle_s:g} s between a READY and the next recycle.",
           "No load: the spawn has the machine to itself (spawns under load: see `recycle`).")
    rows = [stats.summary_row("replacement spawn → READY, ms (master's log)", s.replacement)]
    if s.replacement_main:
        rows.append(stats.summary_row("… of which in the worker's main(), ms", s.replacement_main))
    rows.append(stats.summary_row("`ctl recycle` → replacement READY line seen by the bench, ms", s.recycle_to_ready))
    rows.append(stats.summary_row("startup spawns → READY, ms (2 JVMs at once on the same cores; not in the figures "
                                  "above)", s.startup))
    r.table(["figure", "median", "min", "max", "n"], rows)
    r.add(f"Replacement values, ms, in order: {_join(s.replacement)}. Startup values: {_join(s.startup)}.")
    if s.startup_main:
        r.add(f"Startup, in main(): {_join(s.startup_main)} ms.")
    r.para(f"Respawn backoff warnings (\"dying young\") in the master's log: {s.backoffs}. During the series, "
           "processes this run",
           f"did not start used {s.cpu.others}% of the {NCPU} CPUs (ours {s.cpu.ours}%, hypervisor steal "
           f"{s.cpu.steal}%).")


def _join(values):
    return " ".join(map(str, values))
