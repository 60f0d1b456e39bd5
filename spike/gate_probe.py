#!/usr/bin/env python3
"""Spike (issue 12): when does a booting Spring worker take its first connection from the shared socket? A request is
queued on the socket before the worker starts; the app answers with its JVM uptime when it serves it. Compare with
the agent's "Tomcat connector started" and "Spring application ready" lines (the app has a 2 s ApplicationRunner).

usage: gate_probe.py AGENT APP_JAR   (SPIKE_NO_GATE=1 in the environment turns the agent's accept gate off)"""
import socket, subprocess, sys
agent, app = sys.argv[1], sys.argv[2]
listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen(64)
c = socket.create_connection(listener.getsockname())  # queued in the backlog before any worker exists
c.sendall(b"GET /uptime HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
w = subprocess.Popen(["java", f"-javaagent:{agent}", "-jar", app], stdin=listener, stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE, text=True)
try:
    c.settimeout(60)
    body = b""
    while chunk := c.recv(4096):
        body += chunk
    print("request queued before the worker started was served at JVM uptime", body.decode().split("\r\n\r\n")[1].strip(), "ms")
finally:
    w.terminate()
    err = w.communicate(timeout=30)[1]
    print("\n".join(l for l in err.splitlines() if "spike-agent:" in l and ("started" in l or "ready" in l or "released" in l)))
