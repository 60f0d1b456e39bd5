"""How busy the machine was: CPU used by processes this run did not start (others), by ours, and stolen by the
hypervisor, as % of all CPUs over a window. A busy neighbour shows up here."""
import os
from dataclasses import dataclass

from . import procs

NCPU = os.cpu_count() or 1


@dataclass(frozen=True)
class CpuShare:
    others: int = 0
    ours: int = 0
    steal: int = 0


def _machine():
    """(busy, steal) jiffies of all CPUs from /proc/stat: user + nice + system + irq + softirq, steal."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6], v[7]


class CpuMeter:
    """begin() ... end(): the CpuShare of the window. Ours = the bench itself and its reaped children (wrk), every
    process it started with their reaped children (a killed worker's time stays in its master's cutime), and every
    live worker seen so far."""

    def __init__(self, processes, note_workers):
        self.processes = processes
        self.note_workers = note_workers
        self._start = None

    def _ours(self):
        self.note_workers()
        t = os.times()
        jiffies = (t.user + t.system + t.children_user + t.children_system) * procs.CLK_TCK
        started = {p.pid for p in self.processes.started}
        for pid in started:
            jiffies += procs.ticks(pid, children=True)
        for pid in self.processes.workers - started:
            if procs.alive(pid) and self.processes.ours(pid):
                jiffies += procs.ticks(pid)
        return jiffies

    def begin(self):
        busy, steal = _machine()
        self._start = (busy, steal, self._ours(), procs.now_ms())

    def end(self):
        busy, steal = _machine()
        ours = self._ours()
        b0, s0, o0, t0 = self._start
        cap = max(1, (procs.now_ms() - t0) * procs.CLK_TCK * NCPU / 1000)
        mine = ours - o0
        return CpuShare(others=round(max(0, (busy - b0 - mine) / cap * 100)), ours=round(mine / cap * 100),
                        steal=round((steal - s0) / cap * 100))
