"""spawn: worker spawn-to-READY time. `drover ctl recycle` the oldest worker again and again, read the replacement's
"ready in N ms"; then the first response after a crash: kill -9 the only worker of a -w 1 master with a request waiting
in the listen backlog, without and with a spare worker (drover.spare-workers = 1), in the same run. With the AppCDS
archive, then (full runs) without."""
import os
import re
import signal
import socket
import time
from dataclasses import dataclass, field

from .. import stats
from ..cpu import NCPU
from ..logs import BenchError, MAIN_MS_RE, timestamp_ms
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
    first: object = None                               # FirstResponse: kill -9 of the only worker
    first_spare: object = None                         # FirstResponse: the same with spare-workers = 1
    first_standby: object = None                       # FirstResponse: the same with standby-jvms = 1


@dataclass
class FirstResponse:
    kill_to_response: list = field(default_factory=list)   # kill -9 -> the waiting request's response, ms
    spawn_to_response: list = field(default_factory=list)  # the master's "spawned" line -> that response, ms
    kill_to_spawn: list = field(default_factory=list)      # kill -9 -> the master's "spawned" line, ms
    spawn_to_ready: list = field(default_factory=list)     # the master's "ready in N ms"
    backoffs: int = 0
    cpu: object = None


# A worker that dies younger than this (supervisor RestartPolicy.YOUNG, 10 s) is a failed start, and the master backs
# off before the next spawn: the series kills only workers older than this, so that the backoff is never measured.
YOUNG_S = 10.5


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
    s.first = first_response(b, dirname + "-first", env)
    s.first_spare = first_response_spare(b, dirname + "-first-spare", env)
    s.first_standby = first_response_standby(b, dirname + "-first-standby", env)
    return s


def first_response(b, dirname, env):
    """A -w 1 master; spawn_kills times: once its worker is older than YOUNG_S, kill -9 it and at once send a request,
    which waits in the listen backlog (the master holds the socket) until the replacement accepts it."""
    f = FirstResponse()
    m = b.start_drover(dirname, 1, b.free_port(), env=env)
    b.wait_ready(m, 1, 60)
    ready_at, pid = time.time(), _ready(m.log.ready_lines()[-1])[1]
    b.cpu.begin()
    for i in range(1, b.knobs.spawn_kills + 1):
        before, t_kill, t_response, head = _kill_and_ask(m, pid, ready_at)
        match = m.log.wait_for(lambda: next(iter(m.log.ready_lines(before)), None), 60,
                               "replacement ready after kill -9", alive=lambda: m.proc.poll() is None, poll_s=0.02)
        ready_at, pid = time.time(), _ready(match)[1]
        spawned = next((timestamp_ms(l) for l in m.log.lines()[before:] if f"(pid {pid}," in l and "spawned" in l),
                       None)
        f.kill_to_response.append(round((t_response - t_kill) * 1000))
        f.spawn_to_ready.append(_ready(match)[2])
        if spawned is not None:
            f.spawn_to_response.append(round(t_response * 1000 - spawned))
            f.kill_to_spawn.append(round(spawned - t_kill * 1000))
        b.say(f"spawn: first response {i}/{b.knobs.spawn_kills}: kill -9 -> {head!r} in {f.kill_to_response[-1]} ms "
              f"(spawn -> READY {f.spawn_to_ready[-1]} ms)")
    f.cpu = b.cpu.end()
    f.backoffs = sum(1 for line in m.log.lines() if "dying young" in line)
    b.stop_drover(m)
    return f


def _kill_and_ask(m, pid, ready_at):
    """Once worker `pid` (READY at `ready_at`) is older than YOUNG_S: kill -9 it and at once send a request on a new
    connection. Returns the log's line count before the kill, the kill's and the response's times, and the response's
    first bytes."""
    time.sleep(max(0, ready_at + YOUNG_S - time.time()))
    before = m.log.count()
    t_kill = time.time()
    os.kill(pid, signal.SIGKILL)
    head = _get_root(m.port)
    return before, t_kill, time.time(), head


SPARE_READY_RE = re.compile(r"spare \(pid ([0-9]+)[^)]*\) ready in ([0-9]+) ms")
PROMOTED_RE = re.compile(r"worker [0-9]+ \(pid ([0-9]+)[^)]*\) promoted from spare")


def first_response_spare(b, dirname, env):
    """As first_response, with drover.spare-workers = 1: the waiting request is answered by the promoted spare. Before
    each kill the next spare is READY, so every kill finds one."""
    f = FirstResponse()
    m = b.start_drover(dirname, 1, b.free_port(), flags=("--spare-workers", "1"), env=env)
    b.wait_ready(m, 1, 60)
    _await_spare(m, 0)
    ready_at, pid = time.time(), _ready(m.log.ready_lines()[-1])[1]
    b.cpu.begin()
    for i in range(1, b.knobs.spawn_kills + 1):
        before, t_kill, t_response, head = _kill_and_ask(m, pid, ready_at)
        f.kill_to_response.append(round((t_response - t_kill) * 1000))
        promoted = m.log.wait_for(lambda: next((p for l in m.log.lines()[before:] for p in [PROMOTED_RE.search(l)]
                                                if p), None), 30, "a spare promoted after kill -9",
                                  alive=lambda: m.proc.poll() is None, poll_s=0.02)
        pid = int(promoted.group(1))
        f.spawn_to_ready.append(int(_await_spare(m, before).group(2)))
        ready_at = time.time()
        b.say(f"spawn: first response with a spare {i}/{b.knobs.spawn_kills}: kill -9 -> {head!r} in "
              f"{f.kill_to_response[-1]} ms (the next spare: spawn -> READY {f.spawn_to_ready[-1]} ms)")
    f.cpu = b.cpu.end()
    f.backoffs = sum(1 for line in m.log.lines() if "dying young" in line)
    b.stop_drover(m)
    return f


STANDBY_WAITING_RE = re.compile(r"standby JVM \(pid ([0-9]+)\) \| .*waiting for the master's ADOPT")
ADOPTED_RE = re.compile(r"worker [0-9]+ \(pid ([0-9]+)[^)]*\) spawned: standby JVM")


def first_response_standby(b, dirname, env):
    """As first_response, with drover.standby-jvms = 1: the killed worker's slot adopts the standby JVM (the app
    starts in it; no JVM boot). Before each kill the next standby is waiting for its ADOPT."""
    f = FirstResponse()
    m = b.start_drover(dirname, 1, b.free_port(), flags=("--standby-jvms", "1"), env=env)
    b.wait_ready(m, 1, 60)
    _await_standby(m, 0)
    ready_at, pid = time.time(), _ready(m.log.ready_lines()[-1])[1]
    b.cpu.begin()
    for i in range(1, b.knobs.spawn_kills + 1):
        before, t_kill, t_response, head = _kill_and_ask(m, pid, ready_at)
        f.kill_to_response.append(round((t_response - t_kill) * 1000))
        match = m.log.wait_for(lambda: next(iter(m.log.ready_lines(before)), None), 60,
                               "the adopted standby ready after kill -9", alive=lambda: m.proc.poll() is None,
                               poll_s=0.02)
        pid = _ready(match)[1]
        f.spawn_to_ready.append(_ready(match)[2])
        adopted = any(a and int(a.group(1)) == pid for l in m.log.lines()[before:] for a in [ADOPTED_RE.search(l)])
        _await_standby(m, before)
        ready_at = time.time()
        b.say(f"spawn: first response with a standby JVM {i}/{b.knobs.spawn_kills}: kill -9 -> {head!r} in "
              f"{f.kill_to_response[-1]} ms (adoption -> READY {f.spawn_to_ready[-1]} ms; adopted: {adopted})")
        if not adopted:
            raise BenchError(f"kill {i}: the replacement (pid {pid}) was not an adopted standby (see {m.log.path})")
    f.cpu = b.cpu.end()
    f.backoffs = sum(1 for line in m.log.lines() if "dying young" in line)
    b.stop_drover(m)
    return f


def _await_standby(m, start):
    """The first standby JVM waiting for its ADOPT from log line `start` on."""
    return m.log.wait_for(lambda: next((r for l in m.log.lines()[start:] for r in [STANDBY_WAITING_RE.search(l)]
                                        if r), None), 60, "a standby JVM waiting", alive=lambda: m.proc.poll() is None,
                          poll_s=0.02)


def _await_spare(m, start):
    """The first "spare (pid N, ...) ready in" line from log line `start` on."""
    return m.log.wait_for(lambda: next((r for l in m.log.lines()[start:] for r in [SPARE_READY_RE.search(l)] if r),
                                       None), 60, "a spare ready", alive=lambda: m.proc.poll() is None, poll_s=0.02)


def _get_root(port):
    """GET / on a new connection; the status line (200 expected). Connecting succeeds with no worker: the kernel queues it."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        head = conn.recv(64)
    if not head.startswith(b"HTTP/1.1 200"):
        raise BenchError(f"no HTTP response after the worker's kill -9: {head!r}")
    return head.split(b"\r\n", 1)[0].decode()


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
    if s.first is not None:
        render_first(b, s.label, s.first)
    if s.first_spare is not None:
        render_first_spare(b, s.label, s.first, s.first_spare, s.first_standby)


def render_first(b, label, f):
    k, r = b.knobs, b.report
    r.para(f"### Spawn to first response after kill -9, {label} (`spawn`)")
    r.para(f"Drover with 1 worker; {k.spawn_kills} times: once the worker is older than {YOUNG_S:g} s (a younger death "
           "is a failed start, and the master would back off), `kill -9` it and at once send `GET /` on a new",
           "connection, which waits in the listen backlog until the replacement accepts it. \"spawned\" is the "
           "master's log line (ms precision).")
    r.table(["figure", "median", "min", "max", "n"], [
        stats.summary_row("kill -9 → the waiting request's response, ms", f.kill_to_response),
        stats.summary_row("master's spawn → that response, ms", f.spawn_to_response),
        stats.summary_row("kill -9 → master's spawn, ms", f.kill_to_spawn),
        stats.summary_row("spawn → READY, ms (master's log)", f.spawn_to_ready)])
    r.add(f"kill -9 → response, ms, in order: {_join(f.kill_to_response)}.")
    r.para(f"Respawn backoff warnings (\"dying young\"): {f.backoffs}. During the series, processes this run did not "
           f"start used {f.cpu.others}% of the {NCPU} CPUs (ours {f.cpu.ours}%, hypervisor steal {f.cpu.steal}%).")


def render_first_spare(b, label, without, spare, standby=None):
    k, r = b.knobs, b.report
    r.para(f"### Spawn to first response after kill -9, with a spare worker, {label} (`spawn`)")
    r.para(f"The same {k.spawn_kills} kills of the only worker, on a master with `spare-workers = 1` (started after "
           "the series above, in the same run): the waiting request is answered by the promoted spare; before each "
           "kill the next spare is READY. Ratio: with a spare ÷ without (medians).")
    r.table(["kill -9 → the waiting request's response, ms", "median", "min", "max", "n"], [
        stats.summary_row("spare-workers = 0 (a JVM boots)", without.kill_to_response),
        stats.summary_row("spare-workers = 1 (a spare is promoted)", spare.kill_to_response)]
        + ([stats.summary_row("standby-jvms = 1 (a standby JVM is adopted: the app starts in it)",
                              standby.kill_to_response)] if standby is not None else []))
    r.add(f"Ratio of the medians (spare ÷ boot): "
          f"{stats.ratio(stats.median(spare.kill_to_response), stats.median(without.kill_to_response))}. "
          f"With a spare, in order: {_join(spare.kill_to_response)} ms; the next spare's spawn → READY: "
          f"{_join(spare.spawn_to_ready)} ms." + ("" if standby is None else
          f" Standby ÷ boot: {stats.ratio(stats.median(standby.kill_to_response), stats.median(without.kill_to_response))}"
          f"; with a standby, in order: {_join(standby.kill_to_response)} ms; ADOPT → READY (master's log): "
          f"{_join(standby.spawn_to_ready)} ms."))
    r.para(f"Respawn backoff warnings (\"dying young\"): {spare.backoffs}. During the series, processes this run did "
           f"not start used {spare.cpu.others}% of the {NCPU} CPUs (ours {spare.cpu.ours}%, hypervisor steal "
           f"{spare.cpu.steal}%).")


def _join(values):
    return " ".join(map(str, values))
