"""Unit tests of the harness's pure parts: statistics, wrk's output, the reference.conf reader, the table renderer.
Run: python3 -m unittest discover -s scripts/benchlib -t scripts"""
import unittest

from benchlib import hocon, knobs, stats, wrk
from benchlib.logs import BenchError
from benchlib.report import Report, row
from benchlib.sections import foreign, metrics

WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:8080/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.39ms    8.90ms 189.96ms   97.70%
    Req/Sec     3.72k     1.20k    5.10k    70.00%
  Latency Distribution
     50%  812.00us
     75%    1.35ms
     90%    3.01ms
     99%    1.02s
  14808 requests in 2.08s, 1.13MB read
  Socket errors: connect 1, read 22, write 3, timeout 4
  Non-2xx or 3xx responses: 7
Requests/sec:   7118.32
Transfer/sec:    555.82KB
"""

WRK_CLEAN = """Running 1m test @ http://127.0.0.1:8080/
  2 threads and 64 connections
  Latency Distribution
     50%    3.35ms
     99%  125.49ms
  3140000 requests in 1.02m, 240.00MB read
Requests/sec:  51306.90
"""


class StatsTest(unittest.TestCase):
    def test_median_of_an_even_count_is_the_mean_of_the_middle_two_without_trailing_zeros(self):
        self.assertEqual(stats.median([473, 280, 365, 421]), "393")
        self.assertEqual(stats.median([280, 365, 421, 383, 429, 367, 381, 473, 394, 470]), "388.5")

    def test_median_of_an_odd_count_is_the_middle_value(self):
        self.assertEqual(stats.median([3, 1, 2]), "2")
        self.assertEqual(stats.median(["0.45", "0.13", "0.29"]), "0.29")

    def test_median_rounds_to_two_decimals(self):
        self.assertEqual(stats.median([1, 2.333]), "1.67")

    def test_no_values(self):
        self.assertEqual(stats.median([]), "n/a")
        self.assertEqual(stats.minimum([]), "")
        self.assertEqual(stats.summary_row("x", []), ["x", "n/a", "", "", 0])

    def test_min_and_max_keep_the_values_as_given(self):
        self.assertEqual(stats.minimum([10, 9, 100]), "9")
        self.assertEqual(stats.maximum([10, 9, 100]), "100")

    def test_percentile_is_nearest_rank(self):
        values = list(range(1, 101))
        self.assertEqual(stats.percentile(values, 50), 51)
        self.assertEqual(stats.percentile(values, 99), 99)
        self.assertEqual(stats.percentile(values, 100), 100)
        self.assertIsNone(stats.percentile([], 50))

    def test_ratio(self):
        self.assertEqual(stats.ratio("15201", "7118"), "2.14")
        self.assertEqual(stats.ratio(1, 0), "n/a")
        self.assertEqual(stats.ratio(None, 3), "n/a")

    def test_sizes(self):
        self.assertEqual(stats.mb(64 * 1048576), "64.0")
        self.assertEqual(stats.kb_mb(67482), "65.9")


class WrkTest(unittest.TestCase):
    def test_parses_every_figure(self):
        r = wrk.parse(WRK_OUTPUT)
        self.assertEqual(r.rps_text, "7118")
        self.assertEqual(r.p50_text, "0.81")
        self.assertEqual(r.p99_text, "1020.00")
        self.assertEqual(r.requests, 14808)
        self.assertEqual(r.seconds_text, "2.08")
        self.assertEqual(r.whole_seconds, 3)
        self.assertEqual(r.non2xx, 7)
        self.assertEqual(r.errors, wrk.SocketErrors(connect=1, read=22, write=3, timeout=4))
        self.assertEqual(r.errors.total, 30)
        self.assertEqual(str(r.errors), "connect 1, read 22, write 3, timeout 4")
        self.assertFalse(r.clean)
        self.assertEqual(r.failed_percent, "0.25")

    def test_no_error_lines_means_no_errors_and_minutes_are_read(self):
        r = wrk.parse(WRK_CLEAN)
        self.assertTrue(r.clean)
        self.assertEqual(str(r.errors), "connect 0, read 0, write 0, timeout 0")
        self.assertEqual(r.seconds_text, "61.20")
        self.assertEqual(r.p99_text, "125.49")
        self.assertEqual(r.rps_text, "51307")

    def test_empty_output_gives_zeros(self):
        r = wrk.parse("")
        self.assertEqual((r.rps, r.requests, r.failed_percent), (0.0, 0, "n/a"))

    def test_durations(self):
        self.assertEqual(wrk.duration_ms("812.00us"), 0.812)
        self.assertEqual(wrk.duration_ms("2.00s,"), 2000.0)
        self.assertEqual(wrk.duration_ms("1.5m"), 90000.0)
        with self.assertRaises(ValueError):
            wrk.duration_ms("fast")

    def test_command(self):
        self.assertEqual(wrk.command("http://h/", 2), ["wrk", "-t2", "-c64", "-d2s", "--latency", "http://h/"])
        self.assertEqual(wrk.command("http://h/", 4.0)[3], "-d4s")
        self.assertEqual(wrk.command("http://h/", 2.5)[3], "-d3s")


class HoconTest(unittest.TestCase):
    def test_reads_nested_keys_lists_over_lines_and_comments(self):
        values = hocon.parse('''# comment
drover {
  bind = ["127.0.0.1:8000"]  # trailing comment
  worker-jvm-options = ["-Xms16m", "-Xmx256m",
    "-XX:+UseSerialGC"]
  graceful-timeout = 30s
  pidfile = ""
  cds {
    cache-dir = "~/.cache/drover#x"
  }
  // another comment
  empty = []
}
''')
        self.assertEqual(values["drover.worker-jvm-options"], ["-Xms16m", "-Xmx256m", "-XX:+UseSerialGC"])
        self.assertEqual(values["drover.graceful-timeout"], "30s")
        self.assertEqual(values["drover.pidfile"], "")
        self.assertEqual(values["drover.cds.cache-dir"], "~/.cache/drover#x")
        self.assertEqual(values["drover.empty"], [])

    def test_an_unclosed_block_is_an_error(self):
        with self.assertRaises(ValueError):
            hocon.parse("drover {\n  a = 1\n")

    def test_the_real_reference_conf_has_the_worker_options(self):
        import os
        path = os.path.join(os.path.dirname(__file__), "..", "..", "supervisor", "src", "main", "resources",
                            "reference.conf")
        options = hocon.load(path)["drover.worker-jvm-options"]
        self.assertTrue(options and all(o.startswith("-") for o in options), options)


class ReportTest(unittest.TestCase):
    def test_table_layout(self):
        r = Report()
        r.table(["figure", "median"], [["a", "1"], ["b", None]])
        self.assertEqual(r.text(), "| figure | median |\n|---|---|\n| a | 1 |\n| b | |\n\n")

    def test_empty_cells_print_as_one_space(self):
        self.assertEqual(row(["x", "", "", "y"]), "| x | | | y |")


WORKER_ARGV = ["/usr/lib/jvm/java-17/bin/java", "-Ddrover.logging=worker", "-XX:+ExitOnOutOfMemoryError", "-Xmx256m",
               "-javaagent:/tmp/drover-bench.x/home/agent/target/drover-agent.jar",
               "-XX:SharedArchiveFile=/tmp/drover-bench.x/cds-cache/ab12.jsa", "-jar",
               "/tmp/drover-bench.x/home/examples/jetty/target/jetty-example.jar", "--flag", "value"]


class ForeignTest(unittest.TestCase):
    def test_the_app_alone_runs_like_its_worker_without_the_agent_and_the_archive_on_its_own_port(self):
        self.assertEqual(foreign.standalone_argv(WORKER_ARGV, "-Dport", 23456, "/x/app.jar"), [
            "/usr/lib/jvm/java-17/bin/java", "-Ddrover.logging=worker", "-XX:+ExitOnOutOfMemoryError", "-Xmx256m",
            "-Dport=23456", "-jar", "/x/app.jar", "--flag", "value"])

    def test_a_worker_started_by_main_class_cannot_be_run_alone_with_java_jar(self):
        with self.assertRaises(BenchError) as e:
            foreign.standalone_argv(["java", "-cp", "a.jar", "Main"], "-Dport", 1, "a.jar")
        self.assertIn("no -jar", str(e.exception))

    def test_the_apps_come_from_the_environment_and_an_unknown_one_is_named(self):
        self.assertEqual([a.name for a in foreign.apps({})], ["spring-boot", "jetty"])
        self.assertEqual([a.name for a in foreign.apps({"BENCH_FOREIGN_APPS": "tomcat"})], ["tomcat"])
        with self.assertRaises(ValueError) as e:
            foreign.apps({"BENCH_FOREIGN_APPS": "jetty undertow"})
        self.assertIn("'undertow'", str(e.exception))

    def test_archive_outcome_from_the_masters_lines(self):
        prefix = "2026-12-01 21:00:00.123 INFO  Cds - "
        self.assertEqual(foreign.archive_outcome(prefix + "AppCDS archive /c/x.jsa is ready (31 MiB): workers ..."), "")
        self.assertEqual(foreign.archive_outcome(prefix + "generation 1: workers use the AppCDS archive /c/x.jsa"), "")
        self.assertEqual(foreign.archive_outcome(prefix + "generation 1: no AppCDS archive (the app is a fat jar)"),
                         "the app is a fat jar")
        self.assertEqual(foreign.archive_outcome(prefix + "the AppCDS training run for /c/x.jsa failed (exit 1); ..."),
                         "the AppCDS training run for /c/x.jsa failed (exit 1); ...")
        self.assertEqual(foreign.archive_outcome(None), "no AppCDS line from the master in time")

    def test_failed_requests_are_socket_errors_plus_non_2xx(self):
        self.assertEqual(foreign.failed(wrk.parse(WRK_OUTPUT)), 37)
        self.assertEqual(foreign.failed(wrk.parse(WRK_CLEAN)), 0)

    def test_the_recycle_cost_scales_linearly_to_one_recycle_per_worker_a_minute(self):
        # 4 recycles in a 30 s window cost 8 %; one per worker a minute puts 1 recycle of 2 workers in 30 s: 2 %.
        self.assertEqual(foreign.at_rate("0.92", 4, 2, 30), "0.980")
        self.assertEqual(foreign.at_rate("1.02", 2, 2, 30), "1.010")
        self.assertEqual(foreign.at_rate("0.92", 0, 2, 30), "n/a")
        self.assertEqual(foreign.at_rate("n/a", 3, 2, 30), "n/a")


    def test_the_report_of_an_app_without_an_archive_says_so_and_gives_the_ratios(self):
        import types
        from benchlib.cpu import CpuShare
        from benchlib.sections.throughput import Run

        def run(rps, errors=0):
            return Run(wrk.WrkResult(rps=rps, requests=1000, errors=wrk.SocketErrors(read=errors)), CpuShare())
        series = foreign.Spawns("with the AppCDS archive", plain=[900, 1100, 1000], pss_kb=[60 * 1024, 62 * 1024],
                                archive="drover.app is a jar or main class")
        res = foreign.AppResult(foreign.APPS["jetty"], with_cds=series, without_cds=series,
                                alone=foreign.Alone([500, 520], 100 * 1024, ["java", "-jar", "x.jar"]))
        res.throughput = {("A", 1): run(1000), ("B", 1): run(1500)}
        res.recycle = {("A", 1): foreign.Recycling(run(1500)), ("B", 1): foreign.Recycling(run(1200, errors=3), 4, 5)}
        b = types.SimpleNamespace(knobs=knobs.make(True), report=Report())
        rows = {r[0]: r[1] for r in foreign.summary_rows(b, [res])}
        self.assertEqual(rows["spawn → READY under Drover, with the AppCDS archive: median ms"],
                         "no archive")
        self.assertEqual(rows["spawn → READY under Drover, without an archive: median ms"], "1000 (n 3)")
        self.assertEqual(rows["ratio: Drover without an archive ÷ alone"], "1.96")
        self.assertEqual(rows["**ratio B/A**, median of the rounds' ratios"], "**1.5**")
        self.assertEqual(rows["idle PSS per worker, with the archive: MB, mean of 2"], "no archive")
        self.assertEqual(rows["ratio: worker (as Drover runs it by default) ÷ alone"], "0.61")
        self.assertEqual(rows["recycles in B's measured windows (all rounds)"], 4)
        self.assertEqual(rows["replacements spawned in B's measured windows (all rounds)"], 5)
        self.assertEqual(rows["**ratio B/A** at that rate, median of the rounds' ratios"], "**0.8**")
        self.assertEqual(rows["failed requests (socket errors + non-2xx), A / B, all rounds"], "0 / 3")
        foreign.render(b, [res])
        self.assertIn("| figure | jetty |", b.report.text())


class MetricsTest(unittest.TestCase):
    DEFAULTS = ["-Xms16m", "-Xmx256m", "-XX:+UseSerialGC"]

    def test_the_workers_options_are_the_defaults_with_the_heap_replaced_and_extras_appended(self):
        self.assertEqual(metrics.worker_options(self.DEFAULTS, "-Xmx64m"), ["-Xms16m", "-XX:+UseSerialGC", "-Xmx64m"])
        self.assertEqual(metrics.worker_options(self.DEFAULTS, extra=["-Ddrover.request-times=false"]),
                         self.DEFAULTS + ["-Ddrover.request-times=false"])

    def test_the_options_go_to_the_environment_comma_separated_and_a_comma_in_one_is_refused(self):
        self.assertEqual(metrics.options_env(["-Xms16m", "-Xmx64m"]),
                         {"DROVER_WORKER_JVM_OPTIONS": "-Xms16m,-Xmx64m"})
        with self.assertRaises(BenchError):
            metrics.options_env(["-Dlist=a,b"])

    def test_the_sides_alternate_which_goes_first(self):
        self.assertEqual(metrics.orders(3, "on", "off"), [("on", "off"), ("off", "on"), ("on", "off")])

    def test_the_ratio_is_of_the_sums_and_the_spread_of_the_rounds(self):
        self.assertEqual(metrics.ratio_spread([(110, 100), (90, 100), (200, 0)]), (2.0, 0.9, 1.1))
        self.assertEqual(metrics.ratio_spread([]), (None, None, None))

    def test_samples_are_the_lines_that_are_neither_comments_nor_blank(self):
        text = "# HELP a x\n# TYPE a counter\na_total 1\n\nb{slot=\"1\"} 2\n"
        self.assertEqual(metrics.count_samples(text), 2)


if __name__ == "__main__":
    unittest.main()
