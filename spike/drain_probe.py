#!/usr/bin/env python3
"""Spike (issue 12): what a keep-alive client and an in-flight request see when a worker drains through the
server's own graceful shutdown (SIGTERM; Spring Boot 3.4+ defaults to server.shutdown=graceful).

usage: drain_probe.py AGENT_JAR APP_JAR|"-cp CP MAIN"   (one worker, socket on its fd 0; the app needs /hello, /sleep)"""
import http.client, os, signal, socket, subprocess, sys, threading, time

agent, app = sys.argv[1], sys.argv[2]
listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen(512)
port = listener.getsockname()[1]
args = app.split() if app.startswith("-cp ") else ["-jar", app]
w = subprocess.Popen(["java", f"-javaagent:{agent}"] + args, stdin=listener,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    deadline = time.monotonic() + 60
    while True:
        try:
            ka = http.client.HTTPConnection("127.0.0.1", port, timeout=10); ka.request("GET", "/hello")
            r = ka.getresponse(); r.read(); break
        except (ConnectionError, OSError):
            if time.monotonic() > deadline: raise
            time.sleep(0.2)
    print("keep-alive 1st:", r.status, r.getheader("Connection"), flush=True)
    inflight = {}
    def slow():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=20); c.request("GET", "/sleep")
        r = c.getresponse(); inflight["r"] = (r.status, r.read().decode().strip(), r.getheader("Connection"))
    t = threading.Thread(target=slow); t.start(); time.sleep(0.5)
    os.kill(w.pid, signal.SIGTERM); t_term = time.monotonic(); time.sleep(0.5)
    try:
        ka.request("GET", "/hello"); r = ka.getresponse()
        print(f"keep-alive 2nd, {time.monotonic() - t_term:.1f} s after TERM:", r.status, r.getheader("Connection"), r.read()[:60], flush=True)
    except Exception as e:
        print(f"keep-alive 2nd, {time.monotonic() - t_term:.1f} s after TERM: {type(e).__name__} {e}", flush=True)
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=2)
        c.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        print("new connection during drain (only this worker):", c.recv(200)[:40] or b"EOF (closed)", flush=True)
    except Exception as e:
        print("new connection during drain (only this worker):", type(e).__name__, e, flush=True)
    t.join(20)
    print("in-flight /sleep:", inflight.get("r"), flush=True)
    print("worker exit:", w.wait(30), f"{time.monotonic() - t_term:.1f} s after TERM", flush=True)
finally:
    if w.poll() is None: w.kill()
