#!/usr/bin/env python3
"""Test helper: binds 127.0.0.1:0 once, prints the port, and runs N copies of a command with that listening socket as
their fd 0 (as Drover's master does), or with /dev/null as fd 0 ("devnull": a worker started without the socket).
Usage: fd0_launcher.py N LOG_DIR listener|devnull CMD... ; child i logs to LOG_DIR/child-i.log and has
DROVER_TEST_CHILD=i. Exits with the highest exit code of its children."""
import os, socket, subprocess, sys

count, log_dir, mode, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1024)
print(listener.getsockname()[1], flush=True)
stdin = listener.fileno() if mode == "listener" else subprocess.DEVNULL
children = []
for i in range(count):
    log = open(os.path.join(log_dir, f"child-{i}.log"), "w")
    env = dict(os.environ, DROVER_TEST_CHILD=str(i))
    children.append(subprocess.Popen(cmd, stdin=stdin, stdout=log, stderr=subprocess.STDOUT, env=env))
listener.close()  # only the children hold the socket now: when they are gone, so is its queue
sys.exit(max(child.wait() for child in children))
