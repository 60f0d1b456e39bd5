"""The peers' leaking app for scripts/bench (section `ceiling`): the sample app's /leak in WSGI, served by uWSGI.

GET /leak?kb=N keeps exactly N KiB more for the life of the worker process, in blocks of at most 64 KiB (the last
one smaller), every page touched so that RSS grows with the leak, as the sample app's LeakyCache does; it answers
200 with how much the worker keeps. GET / answers 200 like hello_wsgi.py (no leak: the baseline). Anything else is a
404 or 405.

LEAK_WSGI_BALLAST_MB (environment, default 0): MiB each worker process allocates and touches before its first
answer, so that a Python worker starts about as large as a JVM worker and both have the same headroom below the
same limits.
"""
import os
from urllib.parse import parse_qs

BLOCK = 64 * 1024
PAGE = 4096
MAX_KB = 1048576   # as the sample app: a typo cannot take a worker down by accident
_RETAINED = []     # per process: a forked worker starts with what the master kept (nothing)
_retained_bytes = 0
_ballast = None


class LeakedBlock:
    """One piece of leaked memory, at most 64 KiB."""
    __slots__ = ("payload",)

    def __init__(self, size):
        self.payload = bytearray(size)
        # bytearray's zeroed memory may come straight from fresh pages that are never written: touch each one.
        for i in range(0, size, PAGE):
            self.payload[i] = 1


def retain(kib):
    """Keeps exactly kib KiB more; the total kept by this process, in bytes."""
    global _retained_bytes
    left = kib * 1024
    while left > 0:
        n = min(left, BLOCK)
        _RETAINED.append(LeakedBlock(n))
        left -= n
    _retained_bytes += kib * 1024
    return _retained_bytes


def _answer(start_response, status, text):
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))),
                            ("X-Worker-Pid", str(os.getpid()))])
    return [body]


def _kb(environ):
    values = parse_qs(environ.get("QUERY_STRING", "")).get("kb", [])
    if len(values) != 1 or not values[0].isdigit() or int(values[0]) > MAX_KB:
        return None
    return int(values[0])


def application(environ, start_response):
    global _ballast
    if _ballast is None:
        _ballast = LeakedBlock(int(os.environ.get("LEAK_WSGI_BALLAST_MB", "0")) * 1024 * 1024)
    if environ.get("REQUEST_METHOD") != "GET":
        return _answer(start_response, "405 Method Not Allowed", "only GET is served\n")
    path = environ.get("PATH_INFO", "/")
    if path == "/":
        return _answer(start_response, "200 OK", "hello from worker (pid %d)\n" % os.getpid())
    if path != "/leak":
        return _answer(start_response, "404 Not Found", "no such path: %s\n" % path)
    kb = _kb(environ)
    if kb is None:
        return _answer(start_response, "400 Bad Request", "kb must be a whole number in 0..%d\n" % MAX_KB)
    total = retain(kb)
    return _answer(start_response, "200 OK", "leaked %d KiB more; %d KiB retained in pid %d\n"
                   % (kb, total >> 10, os.getpid()))
