"""Unit tests of the memory-ceiling harness: the paced client and the RSS figures (leakload), the `ceiling` section's
matrix, uWSGI's command line and log lines, and the leaking WSGI app.
Run: python3 -m unittest discover -s scripts/benchlib -t scripts"""
import http.server
import importlib.util
import os
import threading
import unittest

from benchlib import knobs, leakload
from benchlib.leakload import MIB, PacedResult
from benchlib.sections import ceiling

PEERS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "peers")


def leak_app():
    """A fresh copy of scripts/peers/leak_wsgi.py (its leak is module state)."""
    spec = importlib.util.spec_from_file_location("leak_wsgi", os.path.join(PEERS, "leak_wsgi.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LeakLoadTest(unittest.TestCase):
    def test_sizes_are_powers_of_two_like_drovers(self):
        self.assertEqual(leakload.size("160M"), 160 * MIB)
        self.assertEqual(leakload.size("64k"), 65536)
        self.assertEqual(leakload.size("1G"), 1 << 30)
        self.assertEqual(leakload.size("4096"), 4096)

    def test_growth_is_the_least_squares_slope_per_process_long_enough_and_of_the_given_pids(self):
        steady = [(t / 10, 100 * MIB + t / 10 * 2 * MIB) for t in range(30)]
        dip = [(0, 100 * MIB), (1, 110 * MIB), (2, 105 * MIB), (3, 130 * MIB)]   # a GC dip does not hide it
        short = [(0, 0), (0.5, MIB), (0.9, 2 * MIB)]
        exiting = dip + [(4, 60 * MIB), (5, 10 * MIB)]   # frees its memory on the way out: up to its peak only
        flat = [(t, 90 * MIB) for t in range(5)]
        samples = {1: steady, 2: dip, 3: short, 4: steady, 5: exiting, 6: flat}
        rates = leakload.growth_rates(samples, pids={1, 2, 3, 5, 6})
        self.assertEqual(len(rates), 4)
        self.assertAlmostEqual(rates[0] / MIB, 0.0)
        self.assertAlmostEqual(rates[1] / MIB, 2.0)
        self.assertAlmostEqual(rates[2] / MIB, 8.5)
        self.assertAlmostEqual(rates[3] / MIB, 8.5)
        self.assertIsNone(leakload.least_squares_rate([(0, 1), (1, 2)]))
        self.assertIsNone(leakload.least_squares_rate([(1, 1), (1, 2), (1, 3)]))

    def test_peak_over_the_given_pids_only(self):
        samples = {1: [(0, 5), (1, 9)], 2: [(0, 50)]}
        self.assertEqual(leakload.peak(samples), 50)
        self.assertEqual(leakload.peak(samples, {1}), 9)
        self.assertEqual(leakload.peak({}), 0)

    def test_throughput_counts_successes_and_p99_is_of_their_latencies(self):
        r = PacedResult(requests=110, failed=10, seconds=10.0, latencies=tuple(i / 1000 for i in range(1, 101)))
        self.assertEqual(r.ok_per_s, 10.0)
        self.assertAlmostEqual(r.p99_ms, 99.0)
        self.assertIsNone(PacedResult(3, 3, 1.0, ()).p99_ms)

    def test_failures_are_told_by_kind(self):
        r = PacedResult(3, 3, 1.0, (), (("ConnectionResetError", 2), ("timeout", 1)))
        self.assertEqual(r.failures, "ConnectionResetError 2, timeout 1")
        self.assertEqual(PacedResult(3, 0, 1.0, ()).failures, "")

    def test_the_paced_client_counts_every_non_2xx_and_every_refused_connection(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                status = 500 if self.path == "/bad" else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            port = server.server_address[1]
            good = leakload.PacedLoad(port, "/", 40, 2, 0.25).wait()
            bad = leakload.PacedLoad(port, "/bad", 40, 2, 0.25).wait()
        finally:
            server.shutdown()
            server.server_close()
        refused = leakload.PacedLoad(port, "/", 40, 1, 0.1, timeout_s=1).wait()
        self.assertGreater(good.requests, 0)
        self.assertEqual(good.failed, 0)
        self.assertEqual(len(good.latencies), good.requests)
        self.assertEqual(bad.failed, bad.requests)
        self.assertEqual(refused.failed, refused.requests)
        self.assertGreater(refused.requests, 0)
        self.assertEqual(refused.failures, f"ConnectionRefusedError {refused.requests}")
        self.assertTrue(bad.failures.startswith("HTTP "), bad.failures)


class CeilingMatrixTest(unittest.TestCase):
    def test_the_leak_per_request_makes_1_10_and_100_mib_per_second_per_worker_at_the_pace(self):
        loads = ceiling.loads(knobs.make(False, {}))
        self.assertEqual([l.kb for l in loads], [0, 10, 102, 1024, 0, 64])
        self.assertEqual([round(l.per_worker_mib_s() or 0) for l in loads], [0, 1, 10, 100, 0, 0])
        self.assertEqual(loads[0].path, "/")
        self.assertEqual(loads[2].path, "/leak?kb=102")
        self.assertIsNone(loads[5].per_worker_mib_s())
        self.assertEqual(loads[1].seconds, 90)
        self.assertEqual({l.baseline for l in loads[:4]}, {ceiling.BASELINE})
        self.assertEqual({l.baseline for l in loads[4:]}, {ceiling.WRK_BASELINE})

    def test_the_servers_come_from_the_environment_and_an_unknown_one_is_named(self):
        self.assertEqual(ceiling.servers({}), list(ceiling.SERVERS))
        self.assertEqual(ceiling.servers({"BENCH_CEILING_SERVERS": "uwsgi-evil"}), ["uwsgi-evil"])
        with self.assertRaisesRegex(ValueError, "unknown server 'puma'"):
            ceiling.servers({"BENCH_CEILING_SERVERS": "drover puma"})

    def test_uwsgi_gets_drovers_limits_in_mib_one_mechanism_at_a_time(self):
        k = knobs.make(False, {})
        soft = ceiling.uwsgi_argv(8080, "/x/leak_wsgi.py", "uwsgi-rss", k)
        evil = ceiling.uwsgi_argv(8080, "/x/leak_wsgi.py", "uwsgi-evil", k)
        self.assertEqual(soft[soft.index("--reload-on-rss") + 1], "160")
        self.assertNotIn("--evil-reload-on-rss", soft)
        self.assertEqual(evil[evil.index("--evil-reload-on-rss") + 1], "240")
        self.assertEqual(evil[evil.index("--mem-collector-freq") + 1], "3")
        self.assertNotIn("--reload-on-rss", evil)
        for argv in (soft, evil):
            self.assertEqual(argv[argv.index("--processes") + 1], "2")
            self.assertEqual(argv[argv.index("--http-socket") + 1], "127.0.0.1:8080")
            self.assertIn("LEAK_WSGI_BALLAST_MB=80", argv)
        self.assertEqual(ceiling.drover_env(k, "/l")["DROVER_MEMORY_HARD_LIMIT"], "240M")

    def test_uwsgi_recycles_from_its_log_a_sigkill_is_not_also_a_death(self):
        lines = ["spawned uWSGI worker 1 (pid: 10, cores: 1)",
                 "...The work of process 32076 is done. Seeya!",
                 "worker 2 killed successfully (pid: 32076)",
                 "*** EVIL RELOAD ON WORKER 2 RSS: 90607616 (pid: 32578) ***",
                 "DAMN ! worker 2 (pid: 32578) died, killed by signal 9 :( trying respawn ...",
                 "DAMN ! worker 1 (pid: 33) died, killed by signal 11 :( trying respawn ...",
                 "worker respawning too fast !!! i have to sleep a bit (2 seconds)..."]
        self.assertEqual(ceiling.uwsgi_recycles(lines), {"graceful (reload-on-rss)": 1,
                                                         "SIGKILL (evil-reload-on-rss)": 1, "died": 1,
                                                         "respawn paused": 1})
        self.assertEqual(ceiling.uwsgi_recycles(lines[:1]), {})
        self.assertEqual(ceiling.recycles_text({}), "none")

    def test_drover_recycles_from_ctl_status_leave_out_the_reasons_that_did_not_happen(self):
        status = {"recycles": {"memory-hard": 3, "max-requests": 0, "memory": 2}}
        self.assertEqual(ceiling.recycles_text(ceiling.drover_recycles(status)), "memory 2, memory-hard 3")

    def test_a_row_gives_its_ratios_against_the_no_leak_row(self):
        load = ceiling.loads(knobs.make(False, {}))[2]
        base = ceiling.Outcome(4000, 0, "", 200.0, 4.0)
        o = ceiling.Outcome(4000, 12, "", 190.0, 10.0, peak_bytes=252 * MIB, growth=[8 * MIB, 12 * MIB],
                            recycles={"memory-hard": 2})
        self.assertEqual(ceiling.row("drover", load, o, base, 240 * MIB),
                         ["Drover", "paced, ~10 MiB/s", "9.96", "10 (8.0 to 12.0)", "12 / 4000", "1.05",
                          "memory-hard 2", "190", "0.95", "10.0", "2.50"])
        self.assertEqual(ceiling.growth_text([-0.001 * MIB, 0.0]), "0 (0.0 to 0.0)")
        skipped = ceiling.row("uwsgi-rss", load, ceiling.Outcome(note="not run: missing"), None, 240 * MIB)
        self.assertEqual(skipped[2], "not run: missing")


class LeakWsgiTest(unittest.TestCase):
    def test_retains_exactly_the_kib_asked_in_blocks_of_at_most_64_kib(self):
        app = leak_app()
        self.assertEqual(app.retain(150), 150 * 1024)
        self.assertEqual([len(b.payload) for b in app._RETAINED], [65536, 65536, 22528])
        self.assertEqual(app.retain(1), 151 * 1024)
        self.assertEqual(app.retain(0), 151 * 1024)
        self.assertTrue(all(b.payload[0] == 1 for b in app._RETAINED))

    def test_answers_leak_and_root_and_refuses_a_bad_kb(self):
        app = leak_app()
        seen = []

        def call(path, query=""):
            body = b"".join(app.application({"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query},
                                            lambda status, headers: seen.append(status)))
            return seen[-1], body.decode()

        self.assertEqual(call("/leak", "kb=10"),
                         ("200 OK", f"leaked 10 KiB more; 10 KiB retained in pid {os.getpid()}\n"))
        self.assertIn("; 20 KiB retained", call("/leak", "kb=10")[1])
        self.assertEqual(call("/")[0], "200 OK")
        self.assertEqual(call("/leak", "kb=ten")[0], "400 Bad Request")
        self.assertEqual(call("/leak", "kb=2000000")[0], "400 Bad Request")
        self.assertEqual(call("/nope")[0], "404 Not Found")


if __name__ == "__main__":
    unittest.main()
