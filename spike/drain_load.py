#!/usr/bin/env python3
"""Spike (issue 12): two workers on one shared socket under load (fresh and keep-alive connections); one worker is
drained mid-load, either by the server's own graceful shutdown (SIGTERM) or by the agent's Drover-style drain
(SIGHUP: stop accepting, Connection: close on the next keep-alive response, wait for in-flight, exit). Every failed
request is counted.

usage: drain_load.py TERM|HUP AGENT_JAR APP_JAR|"-cp CP MAIN" [path]"""
import collections, http.client, os, signal, socket, subprocess, sys, threading, time

mode, agent, app = sys.argv[1], sys.argv[2], sys.argv[3]
path = sys.argv[4] if len(sys.argv) > 4 else "/hello"
listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen(512)
port = listener.getsockname()[1]
args = app.split() if app.startswith("-cp ") else ["-jar", app]
workers = [subprocess.Popen(["java", f"-javaagent:{agent}"] + args, stdin=listener, stdout=subprocess.DEVNULL,
                            stderr=open(f"/tmp/spike-drain-{i}.log", "w")) for i in range(2)]
stats = collections.Counter()
lock = threading.Lock()
stop = threading.Event()

def count(key):
    with lock:
        stats[key] += 1

def fresh():
    while not stop.is_set():
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10); c.request("GET", path)
            r = c.getresponse(); r.read(); c.close()
            count(f"fresh {r.status}")
        except Exception as e:
            count(f"fresh FAILED {type(e).__name__}")

def keepalive():
    c = None
    while not stop.is_set():
        try:
            if c is None:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", path); r = c.getresponse(); r.read()
            count(f"keep-alive {r.status}" + (" Connection: close" if r.getheader("Connection") == "close" else ""))
            if r.getheader("Connection") == "close":
                c.close(); c = None
        except Exception as e:
            count(f"keep-alive FAILED {type(e).__name__}")
            c = None
    if c: c.close()

try:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            # both started? give the slower one its time: wait for both logs to show the server started
            if all("started" in open(f"/tmp/spike-drain-{i}.log").read() for i in range(2)): break
        except OSError: pass
        if time.monotonic() > deadline: raise SystemExit("workers did not start")
        time.sleep(0.2)
    threads = [threading.Thread(target=f) for f in [fresh, fresh, keepalive, keepalive, keepalive]]
    for t in threads: t.start()
    time.sleep(2)
    before = dict(stats)
    t0 = time.monotonic()
    os.kill(workers[0].pid, signal.SIGTERM if mode == "TERM" else signal.SIGHUP)
    code = workers[0].wait(30)
    exited = time.monotonic() - t0
    time.sleep(1.5)
    stop.set()
    for t in threads: t.join(15)
    print(f"{mode}: worker 0 exited {code} {exited:.1f} s after the signal; before the signal: {before}")
    print(f"{mode}: totals: {dict(stats)}")
finally:
    stop.set()
    for w in workers:
        if w.poll() is None: w.terminate()
    for w in workers:
        try: w.wait(20)
        except subprocess.TimeoutExpired: w.kill()
