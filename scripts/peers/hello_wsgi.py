"""The peers' app for scripts/bench (section `peers`): a trivial WSGI app, served by Gunicorn and by uWSGI.

GET / answers 200 with a short text body, like Drover's sample app's GET / ("hello from worker 1 (pid 12345, gen 1)\n",
text/plain, with an X-Worker-Pid header): about the same size, the same headers, no work behind it. Anything else is
a 404 or 405, as in the sample app.
"""
import os

_HEADERS = None  # per process: computed on the first request after the fork, so each worker shows its own pid
_BODY = None


def application(environ, start_response):
    global _HEADERS, _BODY
    if environ.get("REQUEST_METHOD") != "GET":
        body = b"only GET is served\n"
        start_response("405 Method Not Allowed", [("Content-Type", "text/plain; charset=utf-8"),
                                                  ("Content-Length", str(len(body)))])
        return [body]
    if environ.get("PATH_INFO", "/") != "/":
        body = ("no such path: %s\n" % environ.get("PATH_INFO")).encode()
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"),
                                         ("Content-Length", str(len(body)))])
        return [body]
    if _BODY is None:
        pid = os.getpid()
        _BODY = ("hello from worker (pid %d, ppid %d)\n" % (pid, os.getppid())).encode()
        _HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(_BODY))),
                    ("X-Worker-Pid", str(pid))]
    start_response("200 OK", list(_HEADERS))
    return [_BODY]
