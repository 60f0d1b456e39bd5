"""The bench's shared state and the moves every section makes: start a Drover master through scripts/drover (from
the run's private copy of the jars) and wait for its workers, talk to it with `drover ctl`, run wrk, measure CPU."""
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass

from . import hocon, procs, wrk
from .cpu import CpuMeter
from .logs import BenchError, Log
from .report import Report

APP = "dev.drover.sample.SampleApp"
REFERENCE_CONF = "supervisor/src/main/resources/reference.conf"
# The AppCDS archive: the lines that end the wait for it, whatever their outcome.
CDS_DONE = ("AppCDS archive .* is ready|training run .* failed|cannot start the AppCDS|did not finish within|"
            r"no AppCDS archive \(|workers use the AppCDS archive")


@dataclass
class Master:
    """A Drover master the bench started (scripts/drover execs java, so the launcher's pid is the master's)."""
    name: str
    proc: subprocess.Popen
    log: Log
    pidfile: str
    port: int

    @property
    def pid(self):
        return self.proc.pid

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/"


def say(message):
    procs.eprint(f"[bench {time.strftime('%H:%M:%S')}] {message}")


class Bench:
    def __init__(self, home, run, knobs, args):
        self.home, self.run, self.knobs, self.args, self.quick = home, run, knobs, args, args.quick
        self.snap = os.path.join(run, "home")
        self.processes = procs.Processes(say, self.snap + "/")
        self.report = Report()
        self.masters = []          # every master started: their logs name the workers
        self.env = dict(os.environ, DROVER_NO_BUILD="1")
        self.cds_note = "not used"
        self.shared = {}           # figures one section leaves for another (peers reads recycle's and reload's)
        self._ports = set()
        self.cpu = CpuMeter(self.processes, self.note_all_workers)

    say = staticmethod(say)

    # ---- setup ---------------------------------------------------------------------------------------------------
    def reference_conf(self):
        """Drover's defaults, from their source (the master reads the same file from its jar)."""
        return hocon.load(os.path.join(self.home, REFERENCE_CONF))

    def snapshot(self):
        """A private copy of the built jars, laid out like the repository so that scripts/drover works from it
        unchanged: a rebuild by someone else during the run changes nothing under the running JVMs. Every module's
        target/*.jar and target/lib are copied, whatever the modules are."""
        os.makedirs(os.path.join(self.snap, "scripts"))
        shutil.copy2(os.path.join(self.home, "scripts", "drover"), os.path.join(self.snap, "scripts"))
        for module in sorted(os.listdir(self.home)):
            target = os.path.join(self.home, module, "target")
            if not os.path.isfile(os.path.join(self.home, module, "pom.xml")) or not os.path.isdir(target):
                continue
            copy = os.path.join(self.snap, module, "target")
            os.makedirs(copy)
            for entry in os.listdir(target):
                path = os.path.join(target, entry)
                if entry.endswith(".jar") and os.path.isfile(path):
                    shutil.copy2(path, copy)
                elif entry == "lib" and os.path.isdir(path):
                    shutil.copytree(path, os.path.join(copy, "lib"))
        os.makedirs(os.path.join(self.snap, "peers"))
        for app in ("hello_wsgi.py", "leak_wsgi.py"):
            shutil.copy2(os.path.join(self.home, "scripts", "peers", app), os.path.join(self.snap, "peers"))

    def prepare_cds(self):
        """The AppCDS archive (drover.cds): a master builds one for its workers on its first start with a
        classpath. The bench keeps it in its run directory, not in ~/.cache/drover/cds (the private copy's paths
        are part of the archive's key: each run would leave a new 13 MB file there), and builds it first, with a
        master of 1 worker, so that no section measures a training run or workers without the archive."""
        if "drover.cds.cache-dir" not in self.reference_conf():
            self.cds_note = "not in this build"
            return
        cache = os.path.join(self.run, "cds-cache")
        self.env["DROVER_CDS_CACHE_DIR"] = cache
        t0 = time.time()
        master = self.start_drover("cds", 1, self.free_port())
        try:
            line = master.log.wait_for(lambda: self._first(master.log, CDS_DONE), 120, "AppCDS archive line",
                                       alive=lambda: master.proc.poll() is None, poll_s=0.1)
        except BenchError as e:
            if master.proc.poll() is not None:
                raise BenchError(f"the master exited while the AppCDS archive was being built: {e}") from None
            say("WARNING: no AppCDS archive after 120 s; going on without")
            line = ""
        self.stop_drover(master)
        if "is ready" in line or "workers use" in line:
            size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(cache) for f in fs)
            self.cds_note = (f"on: the archive was built in {int(time.time() - t0)} s before the first section "
                             f"({-(-size // 1048576)} MB in {cache})")
        else:
            self.cds_note = "on, but no archive: " + line.split("] ", 1)[-1]
        say(f"AppCDS: {self.cds_note}")

    @staticmethod
    def _first(log, pattern):
        import re
        rx = re.compile(pattern)
        return next((l for l in log.lines() if rx.search(l)), None)

    # ---- ports, directories --------------------------------------------------------------------------------------
    def free_port(self):
        """A port nobody listens on, in 20000-32767: below the usual ephemeral range, so wrk's own connections
        cannot take it."""
        for _ in range(200):
            port = random.randint(20000, 32767)
            if port in self._ports:
                continue
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            self._ports.add(port)
            return port
        raise BenchError("no free port found in 20000-32767")

    def dir(self, *parts):
        path = os.path.join(self.run, *parts)
        os.makedirs(path, exist_ok=True)
        return path

    # ---- Drover --------------------------------------------------------------------------------------------------
    def start_drover(self, name, workers, port, flags=(), env=None):
        """A master with `workers` workers of the sample app on 127.0.0.1:port; flags (--max-requests 2000) go
        before the app, env adds variables (DROVER_CDS_ENABLED=false)."""
        d = self.dir(name)
        pidfile = os.path.join(d, "drover.pid")
        argv = [os.path.join(self.snap, "scripts", "drover"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
                "-p", pidfile, "--graceful-timeout=5s", "--classpath",
                os.path.join(self.snap, "sample-app", "target", "sample-app.jar"), *flags, APP]
        proc = self.processes.start(argv, os.path.join(d, "master.log"), env=dict(self.env, **(env or {})))
        master = Master(name, proc, Log(os.path.join(d, "master.log")), pidfile, port)
        self.masters.append(master)
        extra = f" ({' '.join(flags)})" if flags else ""
        extra += f" [{' '.join(f'{k}={v}' for k, v in env.items())}]" if env else ""
        say(f"{name}: Drover master pid {proc.pid}, {workers} worker(s){extra}, {master.url} (log {master.log.path})")
        return master

    def wait_ready(self, master, n, timeout_s):
        """Until the master's log holds n "ready in" lines."""
        master.log.wait_for(lambda: len(master.log.ready_lines()) >= n, timeout_s, f"{n} worker(s) ready",
                            alive=lambda: master.proc.poll() is None)
        self.note_workers(master.log)
        try:
            with open(master.pidfile) as f:
                written = f.read().strip()
        except OSError:
            written = "nothing"
        if written != str(master.pid):
            say(f"WARNING: pidfile {master.pidfile} says {written}, expected {master.pid}")

    def wait_http(self, port, proc, timeout_s):
        """Until GET / answers 200."""
        deadline = time.time() + timeout_s
        while not http_ok(port):
            if proc.poll() is not None:
                raise BenchError(f"pid {proc.pid} exited before it answered on port {port}")
            if time.time() >= deadline:
                raise BenchError(f"no 200 from http://127.0.0.1:{port}/ after {timeout_s} s")
            time.sleep(0.1)

    def start_serving(self, name, workers, flags=(), env=None, ready_s=60):
        """start_drover, wait_ready and wait_http in one."""
        master = self.start_drover(name, workers, self.free_port(), flags, env)
        self.wait_ready(master, workers, ready_s)
        self.wait_http(master.port, master.proc, 30)
        return master

    def ctl(self, master, *args):
        """`drover ctl` against the master; its stdout. Its stderr goes to RUN/ctl.err."""
        with open(os.path.join(self.run, "ctl.err"), "ab") as err:
            r = subprocess.run([os.path.join(self.snap, "scripts", "drover"), "ctl", "-p", master.pidfile, *args],
                               stdout=subprocess.PIPE, stderr=err, env=self.env, timeout=60)
        if r.returncode != 0:
            raise BenchError(f"drover ctl {' '.join(args)} failed (exit {r.returncode}; see {self.run}/ctl.err)")
        return r.stdout.decode()

    def status(self, master):
        """`drover ctl status --json`, parsed."""
        return json.loads(self.ctl(master, "status", "--json"))

    def stop_drover(self, master):
        say(f"stopping master {master.pid} (SIGTERM)")
        self.processes.stop(master.proc, 20)
        self.note_workers(master.log)

    def note_workers(self, log):
        for pid in log.worker_pids():
            self.processes.note_worker(pid)

    def note_all_workers(self):
        for m in self.masters:
            self.note_workers(m.log)

    def worker_command(self, master):
        """A live worker's command line, split: (java, JVM options, classpath, main class). The standalone
        baseline runs like a worker, whatever the launcher and the modules put on its command line."""
        for pid in procs.children(master.pid):
            argv = procs.cmdline(pid)
            if "-cp" in argv:
                i = argv.index("-cp")
                return argv[0], argv[1:i], argv[i + 1], argv[i + 2]
        raise BenchError(f"no worker of master {master.pid} with a -cp in its command line")

    # ---- wrk -----------------------------------------------------------------------------------------------------
    def wrk_run(self, url, seconds, out):
        """wrk for `seconds`; its output in out; the parsed result."""
        return self.wrk_finish(self.wrk_start(url, seconds, out), out)

    def wrk_start(self, url, seconds, out):
        return self.processes.start(wrk.command(url, seconds), out)

    def wrk_finish(self, proc, out):
        rc = self.processes.wait(proc)
        with open(out) as f:
            text = f.read()
        if rc != 0:
            raise BenchError(f"wrk failed (exit {rc}): {text}")
        return wrk.parse(text)

    def wrk_interrupt(self, proc, out):
        """Stops wrk early with SIGINT: it then prints its figures for the time it ran."""
        self.processes.send(proc, signal.SIGINT)
        return self.wrk_finish(proc, out)

    def wrk_alive(self, proc):
        return proc.poll() is None


def http_ok(port, path="/"):
    """GET path on a fresh connection answers 200 (http.client: no proxy from the environment)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
