"""foreign: unmodified apps of examples/ run by Drover (a jar path as the APP) against the same jar started alone
with `java -jar`: spawn to READY vs the app's own start, throughput, idle PSS, and what recycling at a steady rate
(--max-lifetime) costs under full load. The apps: BENCH_FOREIGN_APPS (default "spring-boot jetty")."""
import os
import re
import shutil
import time
from dataclasses import dataclass, field

from .. import stats, wrk
from ..harness import CDS_DONE, Master, http_ok
from ..logs import BenchError, Log
from ..procs import alive, cmdline, pss_kb
from .spawn import SpawnSeries, recycle_once
from .throughput import Run, log_run, measure_run

PATH = "/hello"
DEFAULT_APPS = "spring-boot jetty"
ARCHIVED = "; AppCDS)"
# Worker options the app alone does without: Drover's agent and the archive built for Drover's workers.
NOT_ALONE = ("-javaagent:", "-XX:SharedArchiveFile=", "-Xshare:", "-Xlog:cds")
LIFETIME_RECYCLED = r"\) recycled \(max-lifetime\)"
LIFETIME_SPAWNED = r"\) spawned to replace .* \(max-lifetime\)"
DEATHS = r"died unexpectedly|is hung|killed \("


@dataclass(frozen=True)
class App:
    name: str
    jar: str           # relative to the repository
    port_option: str   # the system property that sets its own port when it runs alone


APPS = {a.name: a for a in (
    App("spring-boot", "examples/spring-boot/target/spring-boot-example.jar", "-Dserver.port"),
    App("spring-boot-jetty", "examples/spring-boot-jetty/target/spring-boot-jetty-example.jar", "-Dserver.port"),
    App("jetty", "examples/jetty/target/jetty-example.jar", "-Dport"),
    App("tomcat", "examples/tomcat/target/tomcat-example.jar", "-Dport"))}


@dataclass
class Spawns:
    """One Drover series of recycles: the replacements' spawn -> READY (master's log), split by archive use."""
    label: str
    archived: list = field(default_factory=list)
    plain: list = field(default_factory=list)
    startup: list = field(default_factory=list)
    archive: str = ""            # "" when the app's archive was ready, else why there is none
    pss_kb: list = field(default_factory=list)   # the idle workers' PSS after the series


@dataclass
class Alone:
    """The app alone: launch -> first 200 per start, and the last JVM's idle PSS."""
    start_ms: list = field(default_factory=list)
    pss_kb: int = 0
    argv: list = field(default_factory=list)


@dataclass
class Recycling:
    """One measured window of the recycle cost, with what the master's log says happened in it."""
    run: Run
    recycles: int = 0    # "recycled (max-lifetime)": a replacement serving, the old worker draining
    spawned: int = 0     # replacements spawned (a boot under full load can outlast the window)
    deaths: int = 0      # unplanned deaths, hangs, kills in the master's whole run


@dataclass
class AppResult:
    app: App
    with_cds: Spawns = None
    without_cds: Spawns = None
    alone: Alone = None
    throughput: dict = field(default_factory=dict)   # (side, round) -> Run; A = alone, B = Drover
    recycle: dict = field(default_factory=dict)      # (side, round) -> Recycling


# ---- pure parts (unit-tested) --------------------------------------------------------------------------------------
def apps(environ=os.environ):
    """The apps to run, from BENCH_FOREIGN_APPS; ValueError for one this section does not know."""
    names = environ.get("BENCH_FOREIGN_APPS", DEFAULT_APPS).split()
    for name in names:
        if name not in APPS:
            raise ValueError(f"BENCH_FOREIGN_APPS: unknown app '{name}' (known: {' '.join(APPS)})")
    return [APPS[n] for n in names]


def standalone_argv(worker_argv, port_option, port, jar):
    """The app alone, as its worker runs it: the worker's java and JVM options without Drover's agent and archive,
    its own port as a system property, then `-jar JAR` and the worker's app arguments. JAR is the app's own jar:
    the worker may run Drover's extraction of it (made for the archive), which starts faster than the jar as is."""
    if "-jar" not in worker_argv:
        raise BenchError(f"the worker's command line has no -jar: {' '.join(worker_argv)}")
    i = worker_argv.index("-jar")
    options = [o for o in worker_argv[1:i] if not o.startswith(NOT_ALONE)]
    return [worker_argv[0], *options, f"{port_option}={port}", "-jar", jar, *worker_argv[i + 2:]]


def archive_outcome(line):
    """"" when the master's AppCDS line says the workers (will) use an archive, else why they have none."""
    if line is None:
        return "no AppCDS line from the master in time"
    if re.search(r"AppCDS archive .* is ready|workers use the AppCDS archive", line):
        return ""
    text = line.split(" - ", 1)[-1].strip()
    m = re.search(r"no AppCDS archive \((.*)\)$", text)
    return m.group(1) if m else text


def failed(result):
    """wrk's socket errors plus non-2xx answers."""
    return result.errors.total + result.non2xx


def at_rate(ratio, recycles, workers, window_s, every_s=60):
    """B/A scaled linearly to one recycle per worker every every_s: the loss (1 - ratio) per recycle seen, times the
    recycles such a rate puts into the window. "n/a" without a ratio or a recycle."""
    if ratio == "n/a" or recycles <= 0:
        return "n/a"
    loss_per_recycle = (1 - float(ratio)) / recycles
    return f"{1 - loss_per_recycle * workers * window_s / every_s:.3f}"


# ---- running the apps ------------------------------------------------------------------------------------------------
def copy_jar(b, app):
    """The app's jar (and its lib/, for a thin jar) into the run's private copy; its path there."""
    source = os.path.join(b.home, app.jar)
    if not os.path.isfile(source):
        raise BenchError(f"{source} is missing: build the examples (mvn -B -ntp -DskipTests install at the root)")
    target = os.path.join(b.snap, os.path.dirname(app.jar))
    os.makedirs(target, exist_ok=True)
    shutil.copy2(source, target)
    lib = os.path.join(os.path.dirname(source), "lib")
    if os.path.isdir(lib) and not os.path.isdir(os.path.join(target, "lib")):
        shutil.copytree(lib, os.path.join(target, "lib"))
    return os.path.join(b.snap, app.jar)


def wait_200(b, port, proc, timeout_s, poll_s=0.05):
    """Until GET /hello answers 200; the time it took, ms."""
    t0 = time.time()
    while not http_ok(port, PATH):
        if proc.poll() is not None:
            raise BenchError(f"pid {proc.pid} exited (code {proc.returncode}) before it answered on port {port}")
        if time.time() - t0 >= timeout_s:
            raise BenchError(f"no 200 from http://127.0.0.1:{port}{PATH} after {timeout_s} s")
        time.sleep(poll_s)
    return round((time.time() - t0) * 1000)


def start_drover(b, name, jar, flags=(), env=None):
    """A master with 2 workers of the app (the jar as the APP) on a free port, serving GET /hello."""
    port, d = b.free_port(), b.dir("foreign", name)
    pidfile, log = os.path.join(d, "drover.pid"), os.path.join(d, "master.log")
    argv = [os.path.join(b.snap, "scripts", "drover"), "-w", "2", "-b", f"127.0.0.1:{port}", "-p", pidfile,
            "--graceful-timeout=5s", *flags, jar]
    proc = b.processes.start(argv, log, env=dict(b.env, **(env or {})))
    master = Master(name, proc, Log(log), pidfile, port)
    b.masters.append(master)
    extra = f" ({' '.join(flags)})" if flags else ""
    extra += f" [{' '.join(f'{k}={v}' for k, v in env.items())}]" if env else ""
    b.say(f"foreign: {name}: Drover master pid {proc.pid}, 2 workers of {os.path.basename(jar)}{extra}, "
          f"http://127.0.0.1:{port}{PATH} (log {log})")
    b.wait_ready(master, 2, 180)
    wait_200(b, port, proc, 30)
    return master


def url(port):
    return f"http://127.0.0.1:{port}{PATH}"


def wait_archive(b, m):
    """The master's AppCDS outcome for the app: "" when its workers get an archive, else why not."""
    if "drover.cds.cache-dir" not in b.reference_conf():
        return "AppCDS is not in this build"
    rx = re.compile(CDS_DONE)
    find = lambda: next((l for _, l in m.log.master_lines() if rx.search(l)), None)  # noqa: E731
    try:
        line = m.log.wait_for(find, b.knobs.foreign_archive_s, "AppCDS archive line",
                              alive=lambda: m.proc.poll() is None, poll_s=0.2)
    except BenchError:
        if m.proc.poll() is not None:
            raise
        line = None
    outcome = archive_outcome(line)
    b.say(f"foreign: AppCDS: {'the archive is ready' if not outcome else 'no archive: ' + outcome}")
    return outcome


def spawn_series(b, name, jar, label, env=None):
    """Drover with 2 workers; foreign_spawns times `ctl recycle` of the oldest worker (as the spawn section does);
    then the idle workers' PSS. Returns (Spawns, the master, still running)."""
    k = b.knobs
    m = start_drover(b, name, jar, env=env)
    s = Spawns(label, startup=[int(x.group(3)) for x in m.log.ready_lines()])
    s.archive = wait_archive(b, m) if env is None else "off (DROVER_CDS_ENABLED=false)"
    ready_at = {x.group(1): time.time() for x in m.log.ready_lines()}
    pid_of = {x.group(1): int(x.group(2)) for x in m.log.ready_lines()}
    series = SpawnSeries(label)
    for i in range(1, k.foreign_spawns + 1):
        time.sleep(max(0, max(ready_at.values()) + k.settle_s - time.time()))
        victim = min(ready_at, key=ready_at.get)
        wid, pid = recycle_once(b, m, series, victim, pid_of.pop(victim))
        del ready_at[victim]
        ready_at[wid], pid_of[wid] = time.time(), pid
        archived = ARCHIVED in ready_line(m.log, pid)
        (s.archived if archived else s.plain).append(series.replacement[-1])
        b.say(f"foreign: {name}: {i}/{k.foreign_spawns}: worker {wid} (pid {pid}) ready in {series.replacement[-1]} "
              f"ms{' with the archive' if archived else ''}")
    time.sleep(max(0, max(ready_at.values()) + k.idle_s - time.time()))
    s.pss_kb = [pss_kb(pid) for pid in pid_of.values()]
    b.say(f"foreign: {name}: idle workers' PSS {' '.join(stats.kb_mb(x) for x in s.pss_kb)} MB")
    return s, m


def ready_line(log, pid):
    return next((x.string for x in reversed(log.ready_lines()) if int(x.group(2)) == pid), "")


def worker_argv(m):
    """A live worker's command line (the latest READY one)."""
    for x in reversed(m.log.ready_lines()):
        argv = cmdline(int(x.group(2)))
        if argv and alive(int(x.group(2))):
            return argv
    raise BenchError(f"no live worker of master {m.pid} (log {m.log.path})")


def start_alone(b, app, argv_of, name):
    """The app alone on a free port; (its process, launch -> first 200 in ms)."""
    port = b.free_port()
    argv = argv_of(port)
    log = os.path.join(b.dir("foreign", app.name), f"{name}.log")
    t0 = time.time()
    proc = b.processes.start(argv, log)
    wait_200(b, port, proc, 120, poll_s=0.01)
    ms = round((time.time() - t0) * 1000)
    return proc, port, ms


def alone_series(b, app, worker, jar):
    """foreign_starts starts of the app alone, one after the other; the last one stays up, idles, and its PSS is
    read. Returns (Alone, the last process, its port)."""
    k, a = b.knobs, Alone()
    argv_of = lambda port: standalone_argv(worker, app.port_option, port, jar)  # noqa: E731
    a.argv = argv_of("PORT")
    for i in range(1, k.foreign_starts + 1):
        proc, port, ms = start_alone(b, app, argv_of, f"alone-{i}")
        a.start_ms.append(ms)
        b.say(f"foreign: {app.name} alone: {i}/{k.foreign_starts}: pid {proc.pid}, first 200 after {ms} ms")
        if i < k.foreign_starts:
            b.processes.stop(proc, 15)
            time.sleep(k.settle_s)
    time.sleep(k.idle_s)
    a.pss_kb = pss_kb(proc.pid)
    return a, proc, port


def throughput(b, res, alone_port, m):
    k = b.knobs
    urls = {"A": url(alone_port), "B": url(m.port)}
    for r in range(1, k.foreign_rounds + 1):
        for side in "AB":
            out = os.path.join(b.dir("foreign", res.app.name), f"wrk-{side}-{r}")
            res.throughput[side, r] = measure_run(b, urls[side], out, k.foreign_warmup_s, k.duration_s)
            log_run(b, f"foreign: {res.app.name} throughput round {r} {side}", res.throughput[side, r])


def lifetime_flags(k):
    return ["--max-lifetime", f"{k.foreign_lifetime_s:g}s"], {"DROVER_MAX_LIFETIME_JITTER":
                                                              f"{k.foreign_lifetime_jitter_s:g}s"}


def recycle_cost(b, res, jar):
    """Rounds A/B: each side a fresh master (a recycling master recycles even between its runs, and its boots would
    take CPU from the other side's), wrk warm-up, then the measured window."""
    k, name = b.knobs, res.app.name
    flags, env = lifetime_flags(k)
    for r in range(1, k.foreign_rounds + 1):
        for side in "AB":
            m = start_drover(b, f"{name}-recycle-{side}{r}", jar, *((flags, env) if side == "B" else ((), None)))
            out = os.path.join(b.dir("foreign", name), f"recycle-{side}-{r}")
            b.wrk_run(url(m.port), k.foreign_warmup_s, out + ".warmup.txt")
            start = m.log.count()
            b.cpu.begin()
            result = b.wrk_run(url(m.port), k.foreign_window_s, out + ".txt")
            run = Run(result, b.cpu.end())
            end = m.log.count()
            one = Recycling(run, m.log.count_in(LIFETIME_RECYCLED, start, end),
                            m.log.count_in(LIFETIME_SPAWNED, start, end), m.log.count_in(DEATHS))
            res.recycle[side, r] = one
            log_run(b, f"foreign: {name} recycle round {r} {side}", run,
                    f", {one.recycles} recycles, {one.spawned} replacements spawned")
            if side == "B" and one.recycles == 0:
                b.say(f"foreign: {name}: WARNING: no recycle completed in round {r} B's window (a replacement's boot "
                      "under this load outlasted it)")
            b.stop_drover(m)


def one_app(b, app):
    jar = copy_jar(b, app)
    res = AppResult(app)
    b.say(f"== foreign: {app.name} ({app.jar}) ==")
    res.with_cds, m = spawn_series(b, f"{app.name}-cds", jar, "with the AppCDS archive")
    # The app alone starts while the master stays up with its 2 idle workers: the same company a replacement has.
    res.alone, alone, port = alone_series(b, app, worker_argv(m), jar)
    throughput(b, res, port, m)
    b.processes.stop(alone, 15)
    b.stop_drover(m)
    if res.with_cds.archive:
        # The master built no archive for the app: its workers were already the series without one.
        res.without_cds = res.with_cds
    elif not b.quick:
        res.without_cds, m = spawn_series(b, f"{app.name}-nocds", jar, "without an archive",
                                          {"DROVER_CDS_ENABLED": "false"})
        b.stop_drover(m)
    recycle_cost(b, res, jar)
    return res


def run(b):
    results = [one_app(b, app) for app in apps()]
    render(b, results)


# ---- the report --------------------------------------------------------------------------------------------------------
def spawn_cell(s, which="archived"):
    if s is None:
        return "not run (`--quick`)"
    values = getattr(s, which)
    if which == "archived" and s.archive:
        return "no archive"
    return f"{stats.median(values)} (n {len(values)})" if values else "n/a"


def spawn_ratio(s, alone, which="archived"):
    if s is None or (which == "archived" and s.archive):
        return "n/a"
    return stats.ratio(stats.median(getattr(s, which)), stats.median(alone.start_ms))


def pss_mean(s):
    return sum(s.pss_kb) / len(s.pss_kb) if s and s.pss_kb else None


def pss_cell(s, with_archive):
    if s is None:
        return "not run (`--quick`)"
    if with_archive and s.archive:
        return "no archive"
    return _mb(pss_mean(s))


def worker_pss(res):
    """The workers' idle PSS as Drover runs them by default: with the archive if the master built one."""
    return pss_mean(res.without_cds if res.with_cds.archive else res.with_cds)


def medians(res, part, side, pick):
    return stats.median([pick(v) for (x, _), v in getattr(res, part).items() if x == side])


def round_ratios(res, part, pick):
    n = len([1 for (x, _) in getattr(res, part) if x == "A"])
    return [stats.ratio(pick(getattr(res, part)["B", r]), pick(getattr(res, part)["A", r])) for r in range(1, n + 1)]


def summary_rows(b, results):
    k = b.knobs
    rps = lambda v: round(v.wrk.rps)  # noqa: E731
    rec_rps = lambda v: round(v.run.wrk.rps)  # noqa: E731
    rows = [
        ["spawn → READY under Drover, with the AppCDS archive: median ms"] + [spawn_cell(r.with_cds) for r in results],
        ["spawn → READY under Drover, without an archive: median ms"]
        + [spawn_cell(r.without_cds, "plain") for r in results],
        ["the app alone: `java -jar` → first 200 on its own port: median ms"]
        + [f"{stats.median(r.alone.start_ms)} (n {len(r.alone.start_ms)})" for r in results],
        ["ratio: Drover with the archive ÷ alone"] + [spawn_ratio(r.with_cds, r.alone) for r in results],
        ["ratio: Drover without an archive ÷ alone"]
        + [spawn_ratio(r.without_cds, r.alone, "plain") for r in results],
        ["throughput, the app alone (A): req/s, median of rounds"]
        + [medians(r, "throughput", "A", rps) for r in results],
        ["throughput, Drover with 2 workers (B): req/s, median of rounds"]
        + [medians(r, "throughput", "B", rps) for r in results],
        ["**ratio B/A**, median of the rounds' ratios"]
        + [f"**{stats.median(_num(round_ratios(r, 'throughput', rps)))}**" for r in results],
        ["idle PSS per worker, with the archive: MB, mean of 2"] + [pss_cell(r.with_cds, True) for r in results],
        ["idle PSS per worker, without an archive: MB, mean of 2"]
        + [pss_cell(r.without_cds, False) for r in results],
        ["idle PSS of the app alone: MB"] + [_mb(r.alone.pss_kb) for r in results],
        ["ratio: worker (as Drover runs it by default) ÷ alone"]
        + [stats.ratio(worker_pss(r), r.alone.pss_kb) for r in results],
        ["recycle cost: no recycling (A): req/s, median of rounds"]
        + [medians(r, "recycle", "A", rec_rps) for r in results],
        [f"recycle cost: `--max-lifetime {k.foreign_lifetime_s:g}s` + jitter {k.foreign_lifetime_jitter_s:g}s (B): "
         "req/s, median of rounds"] + [medians(r, "recycle", "B", rec_rps) for r in results],
        ["recycles in B's measured windows (all rounds)"]
        + [sum(v.recycles for (x, _), v in r.recycle.items() if x == "B") for r in results],
        ["replacements spawned in B's measured windows (all rounds)"]
        + [sum(v.spawned for (x, _), v in r.recycle.items() if x == "B") for r in results],
        ["**ratio B/A** at that rate, median of the rounds' ratios"]
        + [f"**{stats.median(_num(round_ratios(r, 'recycle', rec_rps)))}**" for r in results],
        ["B/A scaled linearly to one recycle per worker per 60 s"] + [scaled(b, r) for r in results],
        ["failed requests (socket errors + non-2xx), A / B, all rounds"]
        + [f"{_failed(r, 'A')} / {_failed(r, 'B')}" for r in results],
    ]
    return rows


def scaled(b, res):
    k = b.knobs
    per_round = [at_rate(stats.ratio(res.recycle["B", r].run.wrk.rps, res.recycle["A", r].run.wrk.rps),
                         res.recycle["B", r].recycles, 2, k.foreign_window_s) for r in range(1, k.foreign_rounds + 1)]
    return stats.median(_num(per_round))


def _failed(res, side):
    return sum(failed(v.run.wrk) for (x, _), v in res.recycle.items() if x == side)


def _mb(kb):
    return "n/a" if kb is None else stats.kb_mb(kb)


def _num(texts):
    return [t for t in texts if t != "n/a"]


def render(b, results):
    k, r = b.knobs, b.report
    r.para("### Unmodified apps: Spring Boot and plain Tomcat/Jetty (`foreign`)")
    r.para(f"Each app is the example's jar, unchanged, run two ways: under Drover (`scripts/drover -w 2 -b "
           f"127.0.0.1:PORT JAR`), and alone (`java -jar JAR` on its own port, with a live worker's JVM options minus "
           "Drover's agent and archive). Requests: `GET /hello`.",
           f"Spawn: {k.foreign_spawns} × `drover ctl recycle` of the oldest worker, one at a time, {k.settle_s:g} s "
           "after the previous READY; the master's \"ready in N ms\" (its spawn to the worker's READY). Alone: "
           f"{k.foreign_starts} starts, one after the other, launch to the first 200 seen by the bench (10 ms polls), "
           "while the Drover master with its 2 idle workers stays up (the company a replacement has).",
           f"Idle PSS: {k.idle_s:g} s after the last READY (workers: no request served) or after the first 200 "
           "(alone: one request served), from /proc/PID/smaps_rollup.",
           f"Throughput: `wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS} -d{k.duration_s:g}s --latency`, A = alone, B = "
           f"Drover, both up, rounds A B A B …, each after its own {k.foreign_warmup_s:g} s warm-up.",
           f"Recycle cost: a fresh master per run (2 workers), {k.foreign_warmup_s:g} s warm-up, then "
           f"`wrk -d{k.foreign_window_s:g}s` measured; A without recycling, B with `--max-lifetime "
           f"{k.foreign_lifetime_s:g}s` and `DROVER_MAX_LIFETIME_JITTER={k.foreign_lifetime_jitter_s:g}s`: **each "
           f"worker recycles about every {k.foreign_lifetime_s + k.foreign_lifetime_jitter_s / 2:g} s, "
           f"{60 / (k.foreign_lifetime_s + k.foreign_lifetime_jitter_s / 2):.0f}× the rate of one recycle a minute, "
           "so that several recycles fall in each window**; the scaled row divides the loss by that factor.")
    r.table(["figure"] + [res.app.name for res in results], summary_rows(b, results))
    for res in results:
        if res.with_cds.archive:
            r.para(f"No archive for {res.app.name}: the master logged \"no AppCDS archive ({res.with_cds.archive})\"; "
                   "the series without an archive is that master's.")
    for res in results:
        details(b, res)


def details(b, res):
    k, r, name = b.knobs, b.report, res.app.name
    series = [res.with_cds] + ([res.without_cds] if res.without_cds not in (None, res.with_cds) else [])
    text = "; ".join(f"{s.label}: archived {_join(s.archived) or '-'}, not archived {_join(s.plain) or '-'}, "
                     f"startup {_join(s.startup)}, idle PSS {' '.join(stats.kb_mb(x) for x in s.pss_kb)} MB"
                     for s in series)
    r.para(f"**{name}**: spawn → READY, ms, in order: {text}. Alone, launch → first 200, ms: "
           f"{_join(res.alone.start_ms)}.",
           f"The app alone ran as: `{' '.join(res.alone.argv)}`.")
    rows = []
    for n in range(1, k.foreign_rounds + 1):
        a, bb = res.throughput["A", n], res.throughput["B", n]
        ra, rb = res.recycle["A", n].run, res.recycle["B", n].run
        rec = res.recycle["B", n]
        rows.append([n, a.wrk.rps_text, a.wrk.p99_text, bb.wrk.rps_text, bb.wrk.p99_text,
                     stats.ratio(bb.wrk.rps, a.wrk.rps), f"{failed(a.wrk)} / {failed(bb.wrk)}",
                     ra.wrk.rps_text, rb.wrk.rps_text, rb.wrk.p99_text, f"{rec.recycles} / {rec.spawned}",
                     stats.ratio(rb.wrk.rps, ra.wrk.rps), f"{failed(ra.wrk)} / {failed(rb.wrk)}", rec.deaths,
                     f"{a.cpu.others} / {bb.cpu.others} / {ra.cpu.others} / {rb.cpu.others}"])
    r.table(["round", "alone req/s", "alone p99 ms", "Drover req/s", "Drover p99 ms", "Drover/alone",
             "failed alone / Drover", "no-recycle req/s", "recycling req/s", "recycling p99 ms", "recycles / replacements spawned",
             "recycling/no-recycle", "failed no-recycle / recycling", "unplanned deaths (recycling)",
             "others' CPU % (4 runs)"], rows)


def _join(values):
    return " ".join(map(str, values))
