"""How long and how often each section measures: full runs, and --quick (a smoke test of about 2 minutes). Any knob
can be overridden from the environment as BENCH_<NAME> (BENCH_WARMUP_S=2); BENCH_MAX_REQUESTS and
BENCH_MAX_REQUESTS_JITTER keep their old names."""
import dataclasses
import os
from dataclasses import dataclass


@dataclass
class Knobs:
    spawn_kills: int = 10            # spawn: ctl recycle cycles per series
    settle_s: float = 2              # spawn: from a READY to the next recycle
    idle_s: float = 5                # memory: idle before reading the master
    pss_fresh_s: float = 12          # memory: READY to ctl status (kept for comparison with earlier runs)
    rounds: int = 3                  # throughput, recycle
    warmup_s: float = 4              # wrk warm-up before a measured run
    duration_s: float = 8            # throughput: measured run
    dip_s: float = 3                 # warmup: wrk right after / warm
    warmup_requests: int = 10000     # warmup: --warmup-requests
    recycle_warmup_s: float = 4
    recycle_duration_s: float = 8    # a B run must outlast one recycle (~1 s to the limit, then a 2-5 s boot)
    recycle_max_requests: int = 2000  # recycle: B's limit; under wrk a worker reaches it within about a second
    recycle_jitter: int = 200
    reload_hups: int = 10
    reload_cap_s: float = 180        # reload: wrk's -d; it is stopped with SIGINT 1 s after the last reload
    reloadtime_hups: int = 7         # reloadtime: HUPs per server, idle and again under wrk
    reloadtime_settle_s: float = 2   # reloadtime: after a reload is complete, before the next HUP
    reloadtime_standbys: int = 2     # reloadtime: a second Drover with this many standby JVMs (0: none)
    curve_rounds: int = 2            # curve: A B / B A rounds per interval
    curve_warmup_s: float = 5        # curve: wrk before each measured window, on its fresh master
    curve_window_min_s: float = 30   # curve: B's window is max(this, T + curve_tail_s)
    curve_tail_s: float = 20         # curve: the first recycles' boots and JIT warm-up inside B's window
    curve_a_max_s: float = 60        # curve: A's window (no recycling: steady, so shorter)
    floor_starts: int = 5            # floor: ctl recycles, CPU per worker start
    floor_rounds: int = 3            # floor: HUPs, then 1 s wrk buckets until full speed
    floor_buckets: int = 20          # floor: the most 1 s buckets after a reload
    floor_warm_s: float = 10         # floor: wrk before the warm buckets (before and after the rounds)
    mastercpu_workers: int = 16
    mastercpu_boot_s: float = 180    # 16 JVMs on 2 cores
    cpu_settle_s: float = 5
    cpu_sample_s: int = 20
    look_s: float = 2                # before each section: how busy the machine is
    hostile_idle: int = 5000
    hostile_slowloris: int = 1000
    hostile_gap_s: float = 10
    hostile_requests: int = 300
    hostile_max_s: float = 150
    ab_rounds: int = 4               # checks-cost
    ab_seconds: float = 10
    ab_warm_s: float = 10
    foreign_spawns: int = 6          # foreign: ctl recycle cycles per series (a Spring Boot boot takes seconds)
    foreign_starts: int = 6          # foreign: `java -jar` starts of the app alone
    foreign_rounds: int = 2          # foreign: A/B rounds of throughput and of the recycle cost
    foreign_warmup_s: float = 10     # foreign: wrk warm-up (Spring MVC's JIT warm-up takes longer than Netty's)
    foreign_window_s: float = 40     # foreign: the measured window of the recycle cost
    # foreign: --max-lifetime: 60 s scaled so that recycles fall in the window; long enough that the workers have
    # had their warm-up before the first one even when a boot takes 20 s (a shorter one recycled cold workers)
    foreign_lifetime_s: float = 30
    foreign_lifetime_jitter_s: float = 2
    foreign_archive_s: float = 180   # foreign: the longest wait for the app's AppCDS archive
    # ceiling: limits (MiB) that a ~1 MiB/s leak reaches within ceiling_slow_s: a worker of the sample app serves
    # the paced load at ~100 MiB of RSS; the heap bound is above hard minus the JVM's ~60 MiB of non-heap memory,
    # so that a leak meets the hard limit before the heap's own (docs/BENCHMARKS.md, "Memory ceiling")
    ceiling_soft_mb: int = 160
    ceiling_hard_mb: int = 240
    ceiling_xmx_mb: int = 256
    ceiling_ballast_mb: int = 80     # ceiling: what each uWSGI worker holds from the start (a JVM worker's size)
    ceiling_collector_s: int = 3     # ceiling: uWSGI's --mem-collector-freq (its documented default)
    ceiling_rate: int = 200          # ceiling: paced requests/s in total
    ceiling_connections: int = 4     # ceiling: the paced client's and wrk's connections
    ceiling_wrk_kb: int = 64         # ceiling: KiB leaked per request under wrk (issue 13's scenario)
    ceiling_slow_s: float = 90       # ceiling: the ~1 MiB/s row (60 MiB of headroom to the soft limit)
    ceiling_run_s: float = 20        # ceiling: every other row
    ceiling_warmup_s: float = 4      # ceiling: paced GET / before each row, not measured (a cold JVM's p99)
    metrics_workers: int = 16        # metrics: workers of the master that is scraped
    metrics_rounds: int = 3          # metrics: rounds of a scraped window and one not scraped
    metrics_window_s: float = 10
    metrics_warm_scrapes: int = 30   # metrics: unmeasured scrapes before the first window
    metrics_tp_rounds: int = 6       # metrics: rounds of wrk with request times measured and not
    metrics_tp_s: float = 10
    aot_buckets: int = 10            # aot: 1 s wrk runs after a recycle of both workers


QUICK = dict(spawn_kills=2, settle_s=1, idle_s=2, pss_fresh_s=2, rounds=1, warmup_s=1, duration_s=2, dip_s=1,
             warmup_requests=2000, recycle_warmup_s=1, recycle_duration_s=3, reload_hups=1, reload_cap_s=60,
             reloadtime_hups=2, reloadtime_settle_s=1, curve_rounds=1, curve_warmup_s=2, curve_window_min_s=12,
             curve_tail_s=5, curve_a_max_s=12, floor_starts=2, floor_rounds=1, floor_buckets=8, floor_warm_s=5,
             cpu_settle_s=1, cpu_sample_s=3, look_s=0.5, mastercpu_workers=4, hostile_idle=200,
             hostile_slowloris=50, hostile_gap_s=1, hostile_requests=30, hostile_max_s=5, ab_rounds=2,
             ab_seconds=2, ab_warm_s=1, foreign_spawns=2, foreign_starts=2, foreign_rounds=1, foreign_warmup_s=2,
             foreign_window_s=8, foreign_lifetime_s=5, foreign_lifetime_jitter_s=1, foreign_archive_s=60,
             ceiling_slow_s=6, ceiling_run_s=3, ceiling_warmup_s=1, metrics_workers=4, metrics_warm_scrapes=3,
             metrics_rounds=1, metrics_window_s=3, metrics_tp_rounds=2, metrics_tp_s=2, aot_buckets=4)
LEGACY_ENV = {"recycle_max_requests": "BENCH_MAX_REQUESTS", "recycle_jitter": "BENCH_MAX_REQUESTS_JITTER"}


def make(quick, environ=os.environ):
    """The knobs for a run; raises ValueError naming the variable for a value that is not a number."""
    knobs = Knobs(**(QUICK if quick else {}))
    for f in dataclasses.fields(Knobs):
        name = LEGACY_ENV.get(f.name, "BENCH_" + f.name.upper())
        if environ.get(name):
            try:
                setattr(knobs, f.name, f.type(environ[name]) if f.type is int else float(environ[name]))
            except ValueError:
                raise ValueError(f"{name}={environ[name]!r}: expected a number") from None
    return knobs


def overridden(environ=os.environ):
    """The BENCH_* settings in effect, as "NAME=VALUE " for the results' command line."""
    names = [LEGACY_ENV.get(f.name, "BENCH_" + f.name.upper()) for f in dataclasses.fields(Knobs)]
    names += ["BENCH_PEERS", "BENCH_CEILING_SERVERS", "BENCH_CURVE_INTERVALS"]
    return "".join(f"{n}={environ[n]} " for n in names if environ.get(n))
