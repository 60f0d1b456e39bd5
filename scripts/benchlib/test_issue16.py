"""Unit tests of the reload probe's analysis, the recycle-cost curve's arithmetic and interval parsing, and the
floor's time to full speed. Run: python3 -m unittest discover -s scripts/benchlib -t scripts"""
import unittest

from benchlib import knobs
from benchlib.probe import Sample, answered, pid_of
from benchlib.logs import Log
from benchlib.sections import curve, floor
from benchlib.sections.reload import reload_times


class Response:
    def __init__(self, status, pid):
        self.status, self.pid = status, pid

    def getheader(self, name, default=None):
        return self.pid if name == "X-Worker-Pid" and self.pid is not None else default


class ProbeTest(unittest.TestCase):
    def test_all_new_is_when_the_second_new_pid_first_answers(self):
        samples = [Sample(99.0, 10), Sample(100.2, 10), Sample(100.5, 0), Sample(101.0, 30), Sample(101.5, 30),
                   Sample(102.25, 11), Sample(103.0, 31)]
        got = answered(samples, {10, 11}, 100.0, 2)
        self.assertEqual((got.first_ms, got.all_ms, got.new_pids, got.failures), (1000, 3000, (30, 31), 1))

    def test_not_all_new_yet(self):
        got = answered([Sample(101.0, 30), Sample(101.1, 10)], {10, 11}, 100.0, 2)
        self.assertEqual((got.first_ms, got.all_ms), (1000, None))

    def test_samples_before_the_hup_do_not_count(self):
        got = answered([Sample(99.0, 30), Sample(99.5, 31)], {10}, 100.0, 2)
        self.assertEqual((got.first_ms, got.all_ms, got.new_pids), (None, None, ()))

    def test_pid_of_only_a_200_with_a_numeric_header(self):
        self.assertEqual(pid_of(Response(200, "1234")), 1234)
        self.assertEqual(pid_of(Response(503, "1234")), 0)
        self.assertEqual(pid_of(Response(200, None)), 0)
        self.assertEqual(pid_of(Response(200, "x")), 0)


class CurveTest(unittest.TestCase):
    def test_cost_per_recycle_in_seconds_of_full_throughput(self):
        # B served 10% less than A over 30 s with 6 recycles: 3 s of full throughput lost, 0.5 s each.
        self.assertAlmostEqual(curve.cost_per_recycle_s([(1000, 900, 30, 6)]), 0.5)
        self.assertAlmostEqual(curve.cost_per_recycle_s([(1000, 900, 30, 3), (2000, 2000, 30, 3)]), 0.5)

    def test_a_boot_cut_by_the_window_counts_half(self):
        self.assertEqual(curve.Window(None, 30, recycles=3, spawned=4).counted, 3.5)

    def test_no_recycle_or_no_baseline_has_no_cost(self):
        self.assertIsNone(curve.cost_per_recycle_s([(1000, 900, 30, 0)]))
        self.assertIsNone(curve.cost_per_recycle_s([(0, 900, 30, 2)]))

    def test_projected_ratio_is_one_minus_the_share_of_time_lost(self):
        self.assertAlmostEqual(curve.projected_ratio(0.5, 5), 0.8)
        self.assertAlmostEqual(curve.projected_ratio(0.5, 300), 1 - 1 / 300)
        self.assertEqual(curve.projected_ratio(10, 5), 0.0)
        self.assertIsNone(curve.projected_ratio(None, 5))

    def test_window_holds_the_first_recycles_and_their_warm_up(self):
        k = knobs.make(False, {})
        self.assertEqual(curve.window_s(5, k), 30)
        self.assertEqual(curve.window_s(300, k), 320)

    def test_intervals_from_flag_env_or_defaults(self):
        self.assertEqual(curve.intervals({}, False), [5, 15, 60, 300])
        self.assertEqual(curve.intervals({}, True), [5, 15])
        self.assertEqual(curve.intervals({"BENCH_CURVE_INTERVALS": "5,60"}, True), [5, 60])
        self.assertEqual(curve.intervals({"BENCH_CURVE_INTERVALS": "5"}, False, "7 9"), [7, 9])

    def test_a_bad_interval_is_named(self):
        with self.assertRaisesRegex(ValueError, "'0.5' in '5 0.5'"):
            curve.intervals({}, False, "5 0.5")
        with self.assertRaisesRegex(ValueError, "'x'"):
            curve.intervals({"BENCH_CURVE_INTERVALS": "x"}, False)


class FloorTest(unittest.TestCase):
    def test_seconds_to_full_speed_is_the_first_bucket_at_90_percent(self):
        self.assertEqual(floor.seconds_to_full_speed([100, 500, 899, 900, 1000], 1000), 4)
        self.assertEqual(floor.seconds_to_full_speed([950], 1000), 1)
        self.assertIsNone(floor.seconds_to_full_speed([100, 200], 1000))
        self.assertIsNone(floor.seconds_to_full_speed([100], 0))

    def test_steady_needs_three_buckets_in_a_row(self):
        self.assertTrue(floor.steady([100, 950, 960, 970], 1000))
        self.assertFalse(floor.steady([950, 960, 800], 1000))
        self.assertFalse(floor.steady([950, 960], 1000))


if __name__ == "__main__":
    unittest.main()


class ReloadTimesTest(unittest.TestCase):
    def test_the_config_time_is_read_from_the_started_line_and_the_rest_from_timestamps(self):
        import tempfile, os
        lines = [
            "2026-12-02 11:43:20.576 INFO  [Generations] SIGHUP: reload to generation 2 started: 2 worker(s) of "
            "dev.drover.sample.SampleApp; 2 old worker(s) to replace, canary first (config read and checked in 1,135 ms)",
            "2026-12-02 11:43:20.700 INFO  [worker] worker 1 (pid 5, gen 2) | INFO  Worker - accepting on 1 socket(s)",
            "2026-12-02 11:43:20.800 INFO  [Generations] worker 1 (pid 5, gen 2) is the canary of generation 2 and it "
            "is ready: replacing the old workers",
            "2026-12-02 11:43:21.463 INFO  [Generations] reload to generation 2 complete: 2 worker(s) serving; in 1,078 ms",
            "2026-12-02 11:43:22.000 INFO  [Generations] SIGHUP: reload to generation 3 started: 2 worker(s) of X; 2 "
            "old worker(s) to replace, canary first",
        ]
        with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
            f.write("\n".join(lines) + "\n")
        try:
            times = reload_times(Log(f.name), 0, None)
        finally:
            os.unlink(f.name)
        self.assertEqual([(t.generation, t.config_ms, t.canary_ms, t.complete_ms) for t in times],
                         [(2, 1135, 224, 887), (3, None, None, None)], "an older master's line has no config time")
