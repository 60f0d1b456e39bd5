package dev.drover.supervisor.leaks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The report's arithmetic: growth rates, the ranking of causes, the comparison with earlier reports. */
class LeakReportTest {

    private static final long MIB = 1 << 20;
    private static final LeakReport.Worker WORKER = new LeakReport.Worker(1, 42, 3, "dev.example.App", 60_000, 6000);
    private static final LeakReport.Limit LIMIT = new LeakReport.Limit("memory", "rss over the soft limit", 200 * MIB);

    /** One sample a second for a minute; 100 requests a second; RSS +1 MiB per 1,000 requests after 10 s of warm-up. */
    private static List<MemorySeries.Sample> heapLeak() {
        List<MemorySeries.Sample> series = new ArrayList<>();
        for (int s = 0; s <= 60; s++) {
            long requests = s * 100L;
            long grown = s < 10 ? 0 : (requests - 1000) * MIB / 1000;
            long warmUp = s < 10 ? s * 2 * MIB : 20 * MIB; // warm-up growth must not count
            series.add(new MemorySeries.Sample(s * 1000L, requests, 60 * MIB + warmUp + grown, 10 * MIB + grown,
                    20 * MIB, 3000, MIB, 12));
        }
        return series;
    }

    @Test
    void growthIsMeasuredAfterTheWarmupPerThousandRequestsAndPerMinute() {
        LeakReport r = LeakReport.build(1_800_000_000_000L, WORKER, LIMIT, heapLeak(), 10_000, null, "none", List.of());
        assertEquals(MIB, r.bytesPer1000Requests(), MIB * 0.01);
        assertTrue(r.toText().contains("6.0 MiB per minute"), r.toText());
        // From the baseline (80 MiB at 1,000 requests), 120 MiB more at 1 MiB per 1,000: 121,000 requests.
        assertTrue(r.toText().contains("a fresh worker reaches the soft limit after about 121000 requests"), r.toText());
        assertEquals("heap", r.causes().get(0).name());
        assertTrue(r.toText().contains("no class histogram: none"), r.toText());
        assertEquals("20270115-080000-w1-p42", r.id());
    }

    @Test
    void causesAreRankedByGrowthWithTheUnitemisedRestPutDownToNewThreadsAtMost() {
        MemorySeries.Sample base = new MemorySeries.Sample(0, 0, 100 * MIB, 10 * MIB, 20 * MIB, 3000, MIB, 10);
        // 200 new threads and 60 MiB of RSS nobody itemises: 200 x 512 KiB = 100 MiB could be threads, so all of it is.
        List<LeakReport.Cause> threads = LeakReport.rank(base,
                new MemorySeries.Sample(1, 1, 162 * MIB, 11 * MIB, 21 * MIB, 3010, MIB, 210));
        assertEquals("threads", threads.get(0).name());
        assertEquals(60 * MIB, threads.get(0).bytes());
        // 2 new threads cannot explain 60 MiB: 1 MiB goes to them, the rest is other native memory.
        List<LeakReport.Cause> other = LeakReport.rank(base,
                new MemorySeries.Sample(1, 1, 162 * MIB, 11 * MIB, 21 * MIB, 3010, MIB, 12));
        assertEquals("other native memory", other.get(0).name());
        assertEquals(59 * MIB, other.get(0).bytes());
        List<LeakReport.Cause> classes = LeakReport.rank(base,
                new MemorySeries.Sample(1, 1, 150 * MIB, 12 * MIB, 60 * MIB, 9000, MIB, 10));
        assertEquals("metaspace and classes", classes.get(0).name());
        assertTrue(classes.get(0).detail().contains("loaded classes 3000 -> 9000 (+6000)"), classes.get(0).detail());
        List<LeakReport.Cause> direct = LeakReport.rank(base,
                new MemorySeries.Sample(1, 1, 150 * MIB, 12 * MIB, 21 * MIB, 3000, 45 * MIB, 10));
        assertEquals("direct buffers", direct.get(0).name());
    }

    @Test
    void earlierReportsAtTheSameRateMeanAPersistentLeak() {
        List<LeakReport.Earlier> same = List.of(new LeakReport.Earlier("a", 1, 1.2 * MIB), new LeakReport.Earlier("b", 2, 0.9 * MIB));
        String text = LeakReport.build(0, WORKER, LIMIT, heapLeak(), 10_000, null, "none", same).toText();
        assertTrue(text.contains("every earlier report (2) grew at about the same rate: a persistent leak"), text);
        List<LeakReport.Earlier> mixed = List.of(new LeakReport.Earlier("a", 1, 5 * MIB), new LeakReport.Earlier("b", 2, MIB));
        assertTrue(LeakReport.build(0, WORKER, LIMIT, heapLeak(), 10_000, null, "none", mixed).toText()
                .contains("1 of 2 earlier report(s) grew at about the same rate"));
    }

    @Test
    void theWorkersHistogramsNameTheClassesThatGrew() {
        var evidence = ConfigFactory.parseString("{\"baseline_at_ms\": 10000, \"grown_classes\": [{\"class\": \"[B\", "
                + "\"instances\": 1500, \"bytes\": 98000000}], \"grown_app_classes\": [{\"class\": \"dev.example.Cache$Entry\", "
                + "\"instances\": 1500, \"bytes\": 24000}], \"top_classes\": []}");
        LeakReport r = LeakReport.build(60_000, WORKER, LIMIT, heapLeak(), 10_000, evidence, "", List.of());
        assertEquals("dev.example.Cache$Entry", r.grownAppClasses().get(0).name());
        assertTrue(r.summary("/x.txt").contains("most of it heap (+5.0 MiB); the app's class that grew most: "
                + "dev.example.Cache$Entry (+1500 instances); top class [B (+93.5 MiB, +1500 instances); in flight when the "
                + "worker was stopped: the runtime could not tell (this kind of worker does not list its requests); "
                + "full report: /x.txt"),
                r.summary("/x.txt"));
    }

    @Test
    void theRequestsInFlightAtTheCeilingAreNamedByPathOrTheReportSaysItCouldNotTell() {
        var evidence = ConfigFactory.parseString("{\"inflight\": [{\"method\": \"GET\", \"path\": \"/leak\", "
                + "\"age_ms\": 12}, {\"method\": \"GET\", \"path\": \"/hello\", \"age_ms\": 2}, {\"method\": "
                + "\"GET\", \"path\": \"/leak\", \"age_ms\": 30}], \"no_histogram\": \"skipped at the memory ceiling\"}");
        LeakReport r = LeakReport.build(60_000, WORKER, LIMIT, heapLeak(), 10_000, evidence, "", List.of());
        assertEquals("GET /leak (2 requests, oldest 30 ms), GET /hello (1 request, 2 ms)", r.inflightNote());
        assertTrue(r.toText().contains("In flight when the worker was stopped: GET /leak (2 requests, oldest 30 ms)"),
                r.toText());
        assertTrue(r.toText().contains("Heap: no class histogram: skipped at the memory ceiling"), r.toText());
        assertEquals("none", LeakReport.inflight(ConfigFactory.parseString("{\"inflight\": []}"), ""));
        assertEquals("the runtime could not tell (SIGKILLed first)", LeakReport.build(0, WORKER, LIMIT, heapLeak(),
                10_000, null, "SIGKILLed first", List.of()).inflightNote());
    }

    @Test
    void aLongSeriesIsThinnedAndKeepsItsEnds() {
        MemorySeries series = new MemorySeries(1000);
        for (int s = 0; s < 3 * MemorySeries.MAX; s++) {
            series.offer(new MemorySeries.Sample(s * 1000L, s, s, 0, 0, 0, 0, 0));
        }
        List<MemorySeries.Sample> kept = series.samples();
        assertTrue(kept.size() <= MemorySeries.MAX + 1, "size " + kept.size());
        assertEquals(0, kept.get(0).ageMs());
        assertEquals((3 * MemorySeries.MAX - 1) * 1000L, kept.get(kept.size() - 1).ageMs(), "the latest is always kept");
    }
}
