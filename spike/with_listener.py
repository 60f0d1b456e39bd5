#!/usr/bin/env python3
"""Spike: runs a command with a fresh listening socket (127.0.0.1, any port) as its fd 0."""
import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(128)
os.dup2(s.fileno(), 0)
os.execvp(sys.argv[1], sys.argv[1:])
