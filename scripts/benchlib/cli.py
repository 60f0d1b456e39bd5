"""Drover benchmarks: measures what docs/BENCHMARKS.md reports and prints a markdown table at the end.

  scripts/bench [--quick] [--no-build] [--keep] [--out FILE] [SECTION...] [SECTION OPTIONS]

Sections (default: the first eight, in this order):
  spawn       worker spawn-to-READY time: `drover ctl recycle` a worker again and again, read the replacement's
              "ready in N ms"; with the AppCDS archive, then without
  memory      idle footprint of 4 workers: the master's VmRSS, the workers' RSS/PSS (ctl status and /proc); with the
              AppCDS archive, then without
  throughput  GET / with wrk: one standalone JVM (baseline, A) vs Drover with 2 workers (B) vs Drover with memory
              limits, i.e. leak evidence on (C), rounds A/B/C/A/B/C
  warmup      req/s right after both workers were recycled (ctl recycle) vs warm, without and with drover.warmup
  recycle     GET / with wrk: Drover with 2 workers, no recycling (A) vs --max-requests 2000 (B), rounds A/B/A/B;
              recycles per B run and each recycle's "due" -> "recycled ... draining" time from the master's log
  reload      GET / with wrk while 10 HUPs are sent one after the other (each once the previous reload completed),
              vs a run of the same length without HUPs; wrk's errors, p99, req/s, reload durations from the log
  mastercpu   the master's CPU time (/proc/PID/stat) while 16 idle workers run, and its VmRSS
  peers       Gunicorn and uWSGI (Debian's) with 2 workers: plain, max-requests, HUPs under the same wrk; one table
              side by side with Drover's figures from recycle and reload
Only when named:
  hostile     slowloris and idle keep-alive connections against 2 workers, and the latency of normal requests
              meanwhile (--idle, --slowloris, --gap, --requests, --max-seconds, --env KEY=VALUE, --port)
  checks-cost throughput of two builds side by side, A B / B A rounds: --before DIR (a built checkout) vs --after
              DIR (default: this one), --rounds, --seconds; req/s and the workers' CPU time per request
  foreign     unmodified apps of examples/ (BENCH_FOREIGN_APPS, default "spring-boot jetty") under Drover vs the same
              jar alone (java -jar): spawn to READY (with and without the archive) vs the app's own start, GET /hello
              throughput A/B, idle PSS, and the cost of recycling (--max-lifetime) under full load; about 15 minutes
  ceiling     memory limits under leaks of ~1, ~10, ~100 MiB/s per worker (paced /leak?kb=N) and wrk all-out, each
              against the same load without a leak: Drover (soft + hard limit) vs uWSGI reload-on-rss and
              evil-reload-on-rss at the same limits (BENCH_CEILING_SERVERS); failed requests, highest RSS / hard
              (10 Hz from outside), recycles by reason, throughput and p99; about 13 minutes
  reloadtime  HUP reload of 2 workers timed from outside, the same way for Drover, Gunicorn and uWSGI: from the HUP
              until both new workers answer a probe (fresh connections, X-Worker-Pid); idle, then under wrk; each
              server's own "complete", Drover's started -> canary -> complete breakdown (BENCH_PEERS); ~5 minutes
  curve       the recycle-cost curve: throughput at --max-lifetime T (one recycle per worker every T s) vs without,
              under wrk -c64, A B / B A with a fresh master per window; --intervals "5 15 60 300" (default; --quick:
              "5 15") or BENCH_CURVE_INTERVALS; about 45 minutes with 300 s, 4 with --quick
  floor       what a worker start costs: its CPU seconds from spawn to READY (/proc), the master's share, and the
              time to full speed after a reload (1 s wrk buckets until 90% of warm); ~2 minutes
  metrics     what observability costs: 16 workers with metrics.bind, /metrics scraped once a second in some windows
              and not in others (scrape time; the master's CPU, scraped / not scraped), and 2 workers measuring
              request times vs 2 with -Ddrover.request-times=false under the same wrk, in turn; about 6 minutes
  aot         workers on JDK 17 + AppCDS vs JDK 25 + AOT cache vs JDK 25 without (drover.java-home): spawn -> READY,
              idle PSS, time to full speed after a recycle (1 s wrk buckets); BENCH_AOT_JDK17, BENCH_AOT_JDK25

Environment: BENCH_CURVE_INTERVALS (curve), BENCH_MAX_REQUESTS, BENCH_MAX_REQUESTS_JITTER (recycle's limit),
BENCH_PEERS (default "gunicorn uwsgi";
also gunicorn-sync), BENCH_FOREIGN_APPS (of spring-boot, spring-boot-jetty, jetty, tomcat), BENCH_CEILING_SERVERS
(of drover, uwsgi-rss, uwsgi-evil), and BENCH_<KNOB> for any
knob of scripts/benchlib/knobs.py (BENCH_WARMUP_S=2).

Every process it starts is recorded by pid and stopped on exit, Ctrl-C, TERM or failure (TERM, then KILL). It runs
the jars from a private copy (under its run directory), so a rebuild by someone else mid-run changes nothing under
the running JVMs, and every JVM it started can be told apart by that directory in its command line.
Adding a section: a module in scripts/benchlib/sections/ with run(bench), and its name in SECTIONS (cli.py).
"""
import argparse
import atexit
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

from . import knobs as knobs_mod
from . import prereq, procs
from .harness import Bench, say
from .logs import BenchError

SECTIONS = ["spawn", "memory", "throughput", "warmup", "recycle", "reload", "mastercpu", "peers"]
ON_REQUEST = ["hostile", "checks-cost", "foreign", "ceiling", "metrics", "aot", "reloadtime", "curve", "floor"]


class Usage(Exception):
    """A bad flag or section: exit 2, nothing started."""


def parse(argv):
    ap = argparse.ArgumentParser(prog="bench", add_help=False, usage=argparse.SUPPRESS)
    ap.add_argument("-h", "--help", action="store_true")
    for flag in ("--quick", "--no-build", "--keep"):
        ap.add_argument(flag, action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--idle", type=int)
    ap.add_argument("--slowloris", type=int)
    ap.add_argument("--gap", type=float)
    ap.add_argument("--requests", type=int)
    ap.add_argument("--max-seconds", type=float)
    ap.add_argument("--port", type=int)
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--before")
    ap.add_argument("--after")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--intervals")
    ap.add_argument("sections", nargs="*")
    ap.error = lambda message: (_ for _ in ()).throw(Usage(f"bench: {message} (see --help)"))
    args = ap.parse_args(argv)
    for s in args.sections:
        if s not in SECTIONS + ON_REQUEST:
            raise Usage(f"bench: unknown section '{s}' (known: {' '.join(SECTIONS + ON_REQUEST)})")
    if "checks-cost" in args.sections and not args.before:
        raise Usage("bench: checks-cost needs --before DIR (a Drover checkout whose jars are built)")
    args.sections = args.sections or list(SECTIONS)
    return args


def apply_section_options(args, k):
    """The hostile and checks-cost flags override their knobs."""
    for flag, knob in (("idle", "hostile_idle"), ("slowloris", "hostile_slowloris"), ("gap", "hostile_gap_s"),
                       ("requests", "hostile_requests"), ("max_seconds", "hostile_max_s"), ("rounds", "ab_rounds"),
                       ("seconds", "ab_seconds")):
        if getattr(args, flag) is not None:
            setattr(k, knob, getattr(args, flag))


def header(b, args, home):
    """The results' first lines: the command, the code, the machine, the load."""
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()
    cpu = next((l.split(": ", 1)[1] for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem_kb = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    describe = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=home, capture_output=True, text=True)
    flags = (" --quick" if args.quick else "") + (f" --intervals '{args.intervals}'" if args.intervals else "")
    b.report.para("## Drover benchmark results")
    b.report.para(
        f"- command: `{knobs_mod.overridden()}scripts/bench{flags} {' '.join(args.sections)}`",
        f"- date: {time.strftime('%a %b %e %H:%M:%S %Z %Y')}",
        f"- code: {describe.stdout.strip() or 'unknown'}",
        f"- machine: {os.cpu_count()} CPUs ({cpu.strip()}), {mem_kb / 1048576:.1f} GB RAM, Linux {os.uname().release}",
        f"- AppCDS for the workers: {b.cds_note}",
        f"- java: {java[1] if len(java) > 1 else '?'}; wrk: {wrk_v[1] if len(wrk_v) > 1 else '?'}",
        f"- load average at start: {loadavg()}; other java processes at start: {java_processes()}")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def java_processes():
    """Processes whose program is a java binary (their JIT and GC compete with the measurements)."""
    argvs = (procs.cmdline(e) for e in os.listdir("/proc") if e.isdigit())
    return sum(1 for argv in argvs if len(argv) > 1 and argv[0].endswith("java"))


def run_sections(b, sections):
    for name in sections:
        b.dir(name)
        # How busy the machine is just before the section (other people's builds and tests share it).
        b.cpu.begin()
        time.sleep(b.knobs.look_s)
        others = b.cpu.end().others
        say(f"== section {name} == (load average {loadavg()}; others' CPU over the last {b.knobs.look_s:g} s: "
            f"{others}%)")
        b.report.para(f"_Before this section: load average {loadavg()}; processes this run did not start used "
                      f"{others}% of the CPUs over {b.knobs.look_s:g} s._")
        importlib.import_module(f".sections.{name.replace('-', '_')}", __package__).run(b)
        b.report.para(f"_Load average after this section: {loadavg()}._")


def main(argv=None):
    try:
        args = parse(sys.argv[1:] if argv is None else argv)
        k = knobs_mod.make(args.quick)
        if "curve" in args.sections:
            from .sections import curve
            curve.intervals(quick=args.quick, flag=args.intervals)
        if "peers" in args.sections or "reloadtime" in args.sections:
            from .sections import peers
            peers.kinds()
        if "foreign" in args.sections:
            from .sections import foreign
            foreign.apps()
        if "ceiling" in args.sections:
            from .sections import ceiling
            ceiling.servers()
    except (Usage, ValueError) as e:
        procs.eprint(str(e))
        return 2
    if args.help:
        print(__doc__)
        return 0
    apply_section_options(args, k)
    home = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    procs.install_signal_handlers()
    run_dir = tempfile.mkdtemp(prefix="drover-bench.", dir="/tmp")
    b = Bench(home, run_dir, k, args)
    rc = 1
    atexit.register(b.processes.cleanup)   # the last net, should the finally below not run to its end
    try:
        prereq.need_tools(say)
        if not args.no_build:
            prereq.build(home, say)
        b.snapshot()
        b.prepare_cds()
        t0 = time.time()
        say(f"run directory {run_dir}; sections: {' '.join(args.sections)}{' (quick)' if args.quick else ''}")
        header(b, args, home)
        run_sections(b, args.sections)
        b.report.add(f"Load average at the end: {loadavg()}; run time {int(time.time() - t0)} s.")
        rc = 0
    except BenchError as e:
        say(f"ERROR: {e}")
    except (KeyboardInterrupt, procs.Interrupted):
        say("interrupted")
        rc = 130
    finally:
        procs.ignore_signals()   # a second Ctrl-C must not cut the cleanup short
        b.processes.cleanup()
        if rc != 0 or args.keep:
            say(f"logs kept in {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
    if rc != 0:
        return rc
    text = b.report.text()
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    print()
    print(text, end="")
    return 0
