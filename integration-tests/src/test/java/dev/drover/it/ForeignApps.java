package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Running the example apps (examples/: services that know nothing of Drover) as a user would, with the jar as APP:
 * starting a master on one, a private copy of a jar that a test may replace by its next release, and the checks
 * every such test ends with.
 */
final class ForeignApps {

    /** A jar app takes its class path from its manifest: the sample app the other tests export must not be set. */
    static final Map<String, String> NO_CLASSPATH = Map.of("DROVER_CLASSPATH", "");

    /** A Spring Boot worker boots in 2-4 s on an idle machine here and 10 s or more on a loaded one. */
    static final Duration BOOT = Duration.ofSeconds(90);

    private ForeignApps() {
    }

    /** Starts {@code scripts/drover FLAGS... APP} with {@code jar} as APP. */
    static DroverProcess start(Path jar, String... flags) throws Exception {
        List<String> args = new ArrayList<>(List.of(flags));
        args.add(jar.toString());
        return DroverProcess.start(args, NO_CLASSPATH);
    }

    /** A copy of the example's jar in {@code dir}, runnable from there, that {@link #release} may replace. */
    static Path privateCopy(Examples example, Path dir) throws Exception {
        Path copy = dir.resolve(example.jar().getFileName());
        Files.copy(example.jar(), copy);
        if (example.thin()) {
            Jars.linkLibraries(example.jar(), dir);
        }
        return copy;
    }

    /**
     * Replaces {@code app} by a rebuild of it whose version is {@code version}, as a deployment would: written beside
     * it, then renamed over it in one step, so that a worker starting at any moment reads one whole jar or the other
     * (and the running ones keep the file they opened).
     */
    static void release(Examples example, Path app, String version) throws Exception {
        Path next = app.resolveSibling(app.getFileName() + ".next");
        Jars.copyWithProperty(app, next, example.versionEntry(), Examples.VERSION_KEY, version);
        Files.move(next, app, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Sends HUP and waits for the reload to {@code generation} to complete with {@code workers} serving. */
    static void reload(DroverProcess drover, int generation, int workers) throws Exception {
        int mark = drover.lineCount();
        ReloadIT.signal(drover, "HUP");
        drover.awaitLine("reload to generation " + generation + " complete: " + workers + " worker\\(s\\) serving", mark,
                BOOT.multipliedBy(2));
    }

    /**
     * GET /hello on fresh connections (the kernel spreads them over the workers) until {@code workers} different
     * workers that ctl status lists as serving have answered; each answer of a serving worker must be of
     * {@code version}. Under load a worker may be replaced meanwhile (max-requests): the serving set is read again.
     */
    static void assertServingWorkersAnswer(int port, Path pidfile, Examples example, String version, int workers)
            throws Exception {
        Set<Long> answered = new HashSet<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (answered.size() < workers) {
            assertTrue(System.nanoTime() < deadline, "only " + answered + " of the serving workers answered in 30 s");
            Set<Long> serving = new HashSet<>(Ctl.servingPids(pidfile));
            for (int i = 0; i < 20; i++) {
                Http.Response response = Http.get(port, "/hello");
                assertEquals(200, response.status(), response.body());
                // A worker of the generation just replaced may still answer a connection it accepted before its drain.
                if (serving.contains(response.workerPid())) {
                    assertTrue(response.body().startsWith(example.greeting(version)), "version " + version + ": "
                            + response.body());
                    answered.add(response.workerPid());
                }
            }
        }
    }

    /** The master and every worker it spawned are gone. */
    static void assertNoProcessLeft(DroverProcess drover) throws InterruptedException {
        Set<Long> pids = drover.workerPids();
        DroverProcess.awaitCondition("no worker JVM left of " + pids, Duration.ofSeconds(10),
                () -> pids.stream().noneMatch(DroverProcess::alive));
    }
}
