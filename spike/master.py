#!/usr/bin/env python3
"""Spike (issue 12): a stand-in for Drover's master. Binds one listening socket, starts N workers running an
unmodified jar under the spike agent, hands each the socket over SCM_RIGHTS on a Unix link, then sends fresh
connections to the shared socket and counts which pid answered.

usage: master.py N AGENT_JAR APP_JAR [requests] [path]
SPIKE_ROUTE=fd0 starts the workers with the socket as their stdin instead (what the master's dup2 onto its own fd 0
plus ProcessBuilder.redirectInput(INHERIT) would give them); APP_JAR may be "-cp CLASSPATH MAIN"."""
import collections, os, socket, subprocess, sys, tempfile, threading, time, urllib.request

n, agent, app = int(sys.argv[1]), sys.argv[2], sys.argv[3]
requests = int(sys.argv[4]) if len(sys.argv) > 4 else 40
path = sys.argv[5] if len(sys.argv) > 5 else "/hello"

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.bind(("127.0.0.1", 0))
listener.listen(512)
port = listener.getsockname()[1]
rundir = tempfile.mkdtemp(prefix="spike-master-")
link_path = os.path.join(rundir, "link")
link = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
link.bind(link_path)
link.listen(16)
print(f"master pid {os.getpid()}: shared listener 127.0.0.1:{port}, link {link_path}", flush=True)

links = []
def serve_link():
    while True:
        conn, _ = link.accept()
        hello = conn.recv(100).decode().strip()
        socket.send_fds(conn, [b"FDS\n"], [listener.fileno()])
        links.append(conn)  # kept open: its EOF would tell the worker the master is gone
        print(f"master: {hello}: sent the listener", flush=True)
threading.Thread(target=serve_link, daemon=True).start()

fd0 = os.environ.get("SPIKE_ROUTE") == "fd0"
env = dict(os.environ) if fd0 else dict(os.environ, SPIKE_LINK=link_path)
app_args = app.split() if app.startswith("-cp ") else ["-jar", app]
t0 = time.monotonic()
workers = [subprocess.Popen(["java", f"-javaagent:{agent}"] + app_args, env=env, stdin=listener if fd0 else None)
           for _ in range(n)]
print("master: workers " + " ".join(str(w.pid) for w in workers), flush=True)
try:
    seen, deadline = collections.Counter(), time.monotonic() + 60
    # Not readiness: the spike polls until every worker has answered once (a connection before a worker's server
    # is started waits in the shared backlog and is taken by whichever worker accepts first).
    while len(seen) < n and time.monotonic() < deadline:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30).read().decode().strip()
        seen[body] += 1
    print(f"master: all {len(seen)} workers answered after {time.monotonic() - t0:.1f} s", flush=True)
    seen.clear()
    for _ in range(requests):
        seen[urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30).read().decode().strip()] += 1
    print(f"master: {requests} fresh connections: {dict(seen)}", flush=True)
    print(subprocess.run(["ss", "-ltnp"], capture_output=True, text=True).stdout, flush=True)
finally:
    for w in workers:
        w.terminate()
    for w in workers:
        w.wait(20)
