package dev.drover.supervisor.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drover.link.RequestTimes;
import dev.drover.supervisor.os.ListenQueue;
import dev.drover.supervisor.policy.RecycleReason;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DroverCollectorTest {

    private static final long NOW = 50_000_000_000L;

    private static Snapshot snapshot(List<Snapshot.Worker> workers, Map<String, Long> recycles) {
        long[] buckets = new long[RequestTimes.BOUNDS_SECONDS.length + 1];
        buckets[0] = 3;
        buckets[4] = 1;
        return new Snapshot(NOW, false, false, 2, 1, 3, workers, recycles,
                Map.of("complete", 2L, "abandoned", 1L, "refused", 0L), 4, 5,
                Distribution.empty(MasterTallies.BOOT_BOUNDS).plus(0.7).plus(2.5),
                Distribution.empty(MasterTallies.DRAIN_BOUNDS),
                Map.of(1, new RequestTimes.Counts(buckets, 30_000, new long[] {0, 3, 0, 1, 0})),
                List.of(new Snapshot.Socket("127.0.0.1:8000", "tcp", null)));
    }

    private static String scrape(Snapshot s) throws Exception {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new DroverCollector(() -> s, () -> Health.of(s, NOW), sockets -> Map.of(
                sockets.get(0).address(), new ListenQueue(17, 128))));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aRecyclingSlotIsOneSeriesShowingItsServingWorker() throws Exception {
        String text = scrape(snapshot(List.of(
                new Snapshot.Worker(1, 100, 3, "draining", 900, -1, 50, 1000, 60),
                new Snapshot.Worker(1, 101, 3, "serving", 300, 280, 40, 7, 2),
                new Snapshot.Worker(2, 102, 3, "booting", 100, -1, -1, 0, 1)), Map.of("max-requests", 2L)));
        assertTrue(text.contains("drover_worker_resident_memory_bytes{slot=\"1\"} 300.0"), text);
        assertFalse(text.contains("resident_memory_bytes{slot=\"1\"} 900"), text);
        assertTrue(text.contains("drover_worker_requests{slot=\"1\"} 7.0"), text);
        assertTrue(text.contains("drover_worker_resident_memory_bytes{slot=\"2\"} 100.0"), text);
        assertFalse(text.contains("drover_worker_heap_live_bytes{slot=\"2\"}"), "not read yet: no sample\n" + text);
        assertFalse(text.contains("pid"), text);
        assertTrue(text.contains("drover_workers{state=\"draining\"} 1.0"), text);
        assertTrue(text.contains("drover_workers{state=\"serving\"} 1.0"), text);
    }

    @Test
    void everyRecycleReasonHasACounterAndTheCountsAreTheSnapshots() throws Exception {
        String text = scrape(snapshot(List.of(), Map.of("max-requests", 2L, "manual", 1L)));
        for (RecycleReason reason : RecycleReason.values()) {
            assertTrue(text.contains("drover_recycles_total{reason=\"" + reason.label() + "\"}"), reason.label());
        }
        assertTrue(text.contains("drover_recycles_total{reason=\"max-requests\"} 2.0"), text);
        assertTrue(text.contains("drover_reloads_total{outcome=\"abandoned\"} 1.0"), text);
        assertTrue(text.contains("drover_worker_boot_failures_total 4.0"), text);
        assertTrue(text.contains("drover_leak_reports_total 5.0"), text);
        assertTrue(text.contains("drover_generation 3.0"), text);
        assertTrue(text.contains("drover_listen_queue_connections{address=\"127.0.0.1:8000\"} 17.0"), text);
        assertTrue(text.contains("drover_listen_queue_limit_connections{address=\"127.0.0.1:8000\"} 128.0"), text);
        assertTrue(text.contains("drover_ready 0.0"), "no worker serves\n" + text);
    }

    @Test
    void histogramsAreCumulativeWithTheirSums() throws Exception {
        String text = scrape(snapshot(List.of(), Map.of()));
        assertTrue(text.contains("drover_worker_boot_duration_seconds_bucket{le=\"0.5\"} 0"), text);
        assertTrue(text.contains("drover_worker_boot_duration_seconds_bucket{le=\"1.0\"} 1"), text);
        assertTrue(text.contains("drover_worker_boot_duration_seconds_bucket{le=\"+Inf\"} 2"), text);
        assertTrue(text.contains("drover_worker_boot_duration_seconds_sum 3.2"), text);
        assertTrue(text.contains("drover_http_request_duration_seconds_bucket{slot=\"1\",le=\"0.001\"} 3"), text);
        assertTrue(text.contains("drover_http_request_duration_seconds_bucket{slot=\"1\",le=\"0.025\"} 4"), text);
        assertTrue(text.contains("drover_http_request_duration_seconds_count{slot=\"1\"} 4"), text);
        assertTrue(text.contains("drover_http_request_duration_seconds_sum{slot=\"1\"} 0.03"), text);
        assertTrue(text.contains("drover_http_responses_total{slot=\"1\",status_class=\"4xx\"} 1.0"), text);
    }

    @Test
    void healthFollowsTheLoopTheWorkersAndTheStop() {
        Snapshot serving = snapshot(List.of(new Snapshot.Worker(1, 100, 1, "serving", 1, 1, 1, 1, 1)), Map.of());
        assertEquals(Health.EXIT_READY, Health.of(serving, NOW + 1_000_000_000L).exitCode());
        assertEquals(Health.EXIT_NOT_ALIVE, Health.of(serving, NOW + Health.ALIVE_WITHIN_NANOS + 1).exitCode());
        assertEquals(Health.EXIT_NOT_ALIVE, Health.of(null, NOW).exitCode());
        Snapshot none = snapshot(List.of(new Snapshot.Worker(1, 100, 1, "booting", 1, 1, 1, 1, 1)), Map.of());
        Health booting = Health.of(none, NOW);
        assertEquals(Health.EXIT_NOT_READY, booting.exitCode());
        assertTrue(booting.line().contains("0 worker(s) serving of 2 wanted"), booting.line());
        Snapshot s = serving;
        Snapshot stopping = new Snapshot(s.takenAt(), true, false, s.wanted(), 1, 1, s.workers(), s.recycles(),
                s.reloads(), 0, 0, s.boot(), s.drain(), s.requests(), s.sockets());
        assertEquals(503, Health.of(stopping, NOW).readinessStatus());
        assertEquals(200, Health.of(stopping, NOW).livenessStatus());
    }
}
