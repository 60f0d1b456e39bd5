package dev.drover.supervisor.metrics;

import dev.drover.link.RequestTimes;
import dev.drover.supervisor.arbiter.WorkerState;
import dev.drover.supervisor.os.ListenQueue;
import dev.drover.supervisor.policy.RecycleReason;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Maps the latest {@link Snapshot} to Prometheus metric families at each scrape; the client library writes the
 * text format. Per-worker series are labelled by slot, never by pid, so a replacement continues its slot's series.
 */
public final class DroverCollector implements MultiCollector {

    /** The accept queue of each listening TCP socket, by address, read when scraped (ListenQueues). */
    public interface Backlogs extends Function<List<Snapshot.Socket>, Map<String, ListenQueue>> {
    }

    private static final String[] STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    private static final String[] WORKER_STATES = Arrays.stream(WorkerState.values()).map(WorkerState::label)
            .toArray(String[]::new);

    private final Supplier<Snapshot> snapshots;
    private final Backlogs backlogs;
    private final Supplier<Health> health;

    public DroverCollector(Supplier<Snapshot> snapshots, Supplier<Health> health, Backlogs backlogs) {
        this.snapshots = snapshots;
        this.health = health;
        this.backlogs = backlogs;
    }

    @Override
    public MetricSnapshots collect() {
        Snapshot s = snapshots.get();
        if (s == null) {
            return MetricSnapshots.of();
        }
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        master(s, out);
        perSlot(s, out);
        requests(s, out);
        sockets(s, out);
        return out.build();
    }

    private void master(Snapshot s, MetricSnapshots.Builder out) {
        GaugeSnapshot.Builder states = GaugeSnapshot.builder().name("drover_workers")
                .help("Worker processes by state (a recycle briefly shows a slot's old and new worker)");
        for (String state : WORKER_STATES) {
            states.dataPoint(gauge(s.workers().stream().filter(w -> w.state().equals(state)).count(), "state", state));
        }
        out.metricSnapshot(states.build());
        out.metricSnapshot(gauge("drover_workers_wanted", "Workers the master keeps (0 while paused)", s.wanted()));
        out.metricSnapshot(gauge("drover_generation", "The newest generation (1 at start, +1 per reload)",
                s.generation()));
        out.metricSnapshot(gauge("drover_ready", "1 while /readyz answers 200", health.get().ready() ? 1 : 0));
        CounterSnapshot.Builder recycles = CounterSnapshot.builder().name("drover_recycles")
                .help("Workers replaced, by reason");
        for (RecycleReason reason : RecycleReason.values()) {
            recycles.dataPoint(counter(s.recycles().getOrDefault(reason.label(), 0L), "reason", reason.label()));
        }
        out.metricSnapshot(recycles.build());
        CounterSnapshot.Builder reloads = CounterSnapshot.builder().name("drover_reloads")
                .help("Reloads (HUP, drover ctl reload) by outcome");
        for (String outcome : MasterTallies.RELOAD_OUTCOMES) {
            reloads.dataPoint(counter(s.reloads().getOrDefault(outcome, 0L), "outcome", outcome));
        }
        out.metricSnapshot(reloads.build());
        out.metricSnapshot(CounterSnapshot.builder().name("drover_worker_boot_failures")
                .help("Workers that exited or were killed before READY").dataPoint(counter(s.failedBoots())).build());
        out.metricSnapshot(CounterSnapshot.builder().name("drover_leak_reports")
                .help("Leak reports written").dataPoint(counter(s.leakReports())).build());
        out.metricSnapshot(histogram("drover_worker_boot_duration_seconds", "Worker spawn to READY",
                List.of(point(s.boot(), Labels.EMPTY))));
        out.metricSnapshot(histogram("drover_worker_drain_duration_seconds", "Worker DRAIN to exit",
                List.of(point(s.drain(), Labels.EMPTY))));
    }

    /**
     * One row per slot: its serving worker (the newest, during a recycle), else its newest worker. Spares hold no
     * slot (theirs is 0): drover_workers{state="spare"} counts them.
     */
    static List<Snapshot.Worker> slotHolders(List<Snapshot.Worker> workers) {
        Map<Integer, Snapshot.Worker> bySlot = new TreeMap<>();
        Comparator<Snapshot.Worker> better = Comparator.comparing((Snapshot.Worker w) -> w.state().equals("serving"))
                .thenComparing(w -> -w.ageSeconds());
        for (Snapshot.Worker w : workers.stream().filter(w -> w.slot() != 0).toList()) {
            bySlot.merge(w.slot(), w, (a, b) -> better.compare(a, b) >= 0 ? a : b);
        }
        return new ArrayList<>(bySlot.values());
    }

    private void perSlot(Snapshot s, MetricSnapshots.Builder out) {
        List<Snapshot.Worker> holders = slotHolders(s.workers());
        out.metricSnapshot(slotGauge("drover_worker_resident_memory_bytes", "Resident set size (RSS)", holders,
                Snapshot.Worker::rssBytes));
        out.metricSnapshot(slotGauge("drover_worker_proportional_memory_bytes",
                "Proportional set size (PSS; read every 10 s)", holders, Snapshot.Worker::pssBytes));
        out.metricSnapshot(slotGauge("drover_worker_heap_live_bytes", "Java heap in use after the last GC", holders,
                Snapshot.Worker::heapLiveBytes));
        out.metricSnapshot(slotGauge("drover_worker_requests", "Requests served by the slot's current worker "
                + "(restarts from 0 when it is replaced; drover_http_request_duration_seconds_count does not)",
                holders, w -> (double) w.requests()));
        out.metricSnapshot(slotGauge("drover_worker_age_seconds", "Age of the slot's current worker", holders,
                Snapshot.Worker::ageSeconds));
        out.metricSnapshot(slotGauge("drover_worker_generation", "Generation of the slot's current worker", holders,
                w -> (double) w.generation()));
    }

    private void requests(Snapshot s, MetricSnapshots.Builder out) {
        List<HistogramDataPointSnapshot> durations = new ArrayList<>();
        CounterSnapshot.Builder responses = CounterSnapshot.builder().name("drover_http_responses")
                .help("Responses by status class, per slot (workers of a jar or main-class app report none)");
        for (Map.Entry<Integer, RequestTimes.Counts> e : s.requests().entrySet()) {
            String slot = Integer.toString(e.getKey());
            RequestTimes.Counts c = e.getValue();
            durations.add(point(new Distribution(RequestTimes.BOUNDS_SECONDS, c.buckets(), c.sumMicros() / 1e6),
                    Labels.of("slot", slot)));
            long[] classes = c.statusClasses();
            for (int i = 0; i < classes.length; i++) {
                responses.dataPoint(CounterDataPointSnapshot.builder().value(classes[i])
                        .labels(Labels.of("slot", slot, "status_class", STATUS_CLASSES[i])).build());
            }
        }
        out.metricSnapshot(histogram("drover_http_request_duration_seconds",
                "Request durations measured by the workers, per slot", durations));
        out.metricSnapshot(responses.build());
    }

    private void sockets(Snapshot s, MetricSnapshots.Builder out) {
        Map<String, ListenQueue> queues = backlogs.apply(s.sockets());
        GaugeSnapshot.Builder length = GaugeSnapshot.builder().name("drover_listen_queue_connections")
                .help("Connections waiting in a TCP listening socket's accept queue (Recv-Q in ss -ltn)");
        GaugeSnapshot.Builder limit = GaugeSnapshot.builder().name("drover_listen_queue_limit_connections")
                .help("The most a TCP listening socket's accept queue holds (the backlog; Send-Q in ss -ltn)");
        queues.forEach((address, q) -> {
            length.dataPoint(gauge(q.length(), "address", address));
            limit.dataPoint(gauge(q.limit(), "address", address));
        });
        out.metricSnapshot(length.build());
        out.metricSnapshot(limit.build());
    }

    private static GaugeSnapshot slotGauge(String name, String help, List<Snapshot.Worker> holders,
                                           java.util.function.ToDoubleFunction<Snapshot.Worker> value) {
        GaugeSnapshot.Builder gauge = GaugeSnapshot.builder().name(name).help(help);
        for (Snapshot.Worker w : holders) {
            double v = value.applyAsDouble(w);
            if (v >= 0) {
                gauge.dataPoint(gauge(v, "slot", Integer.toString(w.slot())));
            }
        }
        return gauge.build();
    }

    private static GaugeSnapshot gauge(String name, String help, double value) {
        return GaugeSnapshot.builder().name(name).help(help)
                .dataPoint(GaugeDataPointSnapshot.builder().value(value).build()).build();
    }

    private static GaugeDataPointSnapshot gauge(double value, String... labels) {
        return GaugeDataPointSnapshot.builder().value(value).labels(Labels.of(labels)).build();
    }

    private static CounterDataPointSnapshot counter(double value, String... labels) {
        return CounterDataPointSnapshot.builder().value(value).labels(Labels.of(labels)).build();
    }

    private static HistogramSnapshot histogram(String name, String help, List<HistogramDataPointSnapshot> points) {
        HistogramSnapshot.Builder h = HistogramSnapshot.builder().name(name).help(help);
        points.forEach(h::dataPoint);
        return h.build();
    }

    private static HistogramDataPointSnapshot point(Distribution d, Labels labels) {
        double[] bounds = Arrays.copyOf(d.bounds(), d.bounds().length + 1);
        bounds[bounds.length - 1] = Double.POSITIVE_INFINITY;
        return HistogramDataPointSnapshot.builder().labels(labels).sum(d.sumSeconds())
                .classicHistogramBuckets(ClassicHistogramBuckets.of(bounds, d.counts())).build();
    }
}
