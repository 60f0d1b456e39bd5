package dev.drover.supervisor.arbiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drover.supervisor.config.AppClasspath;
import dev.drover.supervisor.config.ConfigLoader;
import dev.drover.supervisor.config.ConfigSources;
import dev.drover.supervisor.config.Settings;
import dev.drover.supervisor.os.CdsArchive;
import dev.drover.supervisor.os.Spawner;
import dev.drover.supervisor.os.WorkerProcess;
import dev.drover.supervisor.os.WorkerSpawner;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The order of AppCDS work for a Spring Boot jar: extract once no worker boots, then run the extraction, then train
 * it, then map the archive; a failed extraction falls back to the fat jar. The extraction and the training are
 * stand-ins (a shell that exits) that write what the real ones would.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CdsTest {

    @TempDir
    Path dir;

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final FakeSpawner spawner = new FakeSpawner();
    private String savedAgent;
    private Path fatJar;

    @BeforeEach
    void springBootJarAndAgent() throws Exception {
        savedAgent = System.getProperty(AppClasspath.AGENT_JAR_PROPERTY);
        System.setProperty(AppClasspath.AGENT_JAR_PROPERTY,
                Files.writeString(dir.resolve("drover-agent.jar"), "agent").toString());
        fatJar = dir.resolve("app/service.jar");
        Files.createDirectories(fatJar.getParent());
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "org.springframework.boot.loader.launch.JarLauncher");
        manifest.getMainAttributes().putValue("Spring-Boot-Version", "3.5.7");
        try (OutputStream out = Files.newOutputStream(fatJar); JarOutputStream ignored = new JarOutputStream(out, manifest)) {
            // the manifest is what tells a Spring Boot jar
        }
    }

    @AfterEach
    void restore() {
        if (savedAgent == null) {
            System.clearProperty(AppClasspath.AGENT_JAR_PROPERTY);
        } else {
            System.setProperty(AppClasspath.AGENT_JAR_PROPERTY, savedAgent);
        }
    }

    private Generation generation(int number) throws Exception {
        Settings settings = ConfigLoader.load(new ConfigSources(Optional.empty(),
                Map.of("DROVER_CDS_CACHE_DIR", dir.resolve("cache").toString()), List.of(
                new ConfigSources.Flag("drover.app", fatJar.toString(), "argument APP"))));
        return new Generation(number, settings, List.of());
    }

    private Cds cds() {
        return new Cds(spawner, events::add, System::nanoTime);
    }

    @Test
    void extractedOnceIdleThenRunThenTrainedThenMapped() throws Exception {
        Cds cds = cds();
        cds.prepare(generation(1));
        assertEquals(new Cds.Launch(Optional.empty(), Optional.empty()), cds.launchFor(1), "the fat jar meanwhile");
        cds.trainWhenIdle(true);
        assertTrue(spawner.extractions.isEmpty(), "nothing while a worker boots");

        cds.trainWhenIdle(false);
        Event.ExtractionExited extracted = (Event.ExtractionExited) next();
        cds.onExtractionExited(extracted.directory(), extracted.status());
        Path runJar = extracted.directory().resolve("service.jar");
        assertEquals(new Cds.Launch(Optional.empty(), Optional.of(runJar)), cds.launchFor(1));
        assertFalse(Files.exists(dir.resolve("cache").resolve(spawner.extractions.get(0).getFileName())),
                "the temporary directory was renamed into place");

        cds.trainWhenIdle(false);
        assertEquals(List.of(Optional.of(runJar)), spawner.trainedJars, "the training runs the extraction");
        Event.TrainingExited trained = (Event.TrainingExited) next();
        cds.onTrainingExited(trained.archive(), trained.status());
        assertEquals(new Cds.Launch(Optional.of(trained.archive()), Optional.of(runJar)), cds.launchFor(1));

        Cds restarted = cds();
        restarted.prepare(generation(1));
        assertEquals(new Cds.Launch(Optional.of(trained.archive()), Optional.of(runJar)), restarted.launchFor(1),
                "a master restarted with the same jar reuses both at once");
        restarted.trainWhenIdle(false);
        assertEquals(1, spawner.extractions.size());
        assertEquals(1, spawner.trainedJars.size());
    }

    @Test
    void aFailedExtractionFallsBackToTheFatJarAndItsOwnArchive() throws Exception {
        spawner.extractionStatus = 1;
        Cds cds = cds();
        cds.prepare(generation(1));
        cds.trainWhenIdle(false);
        Event.ExtractionExited failed = (Event.ExtractionExited) next();
        cds.onExtractionExited(failed.directory(), failed.status());
        assertFalse(Files.exists(failed.directory()));
        assertEquals(new Cds.Launch(Optional.empty(), Optional.empty()), cds.launchFor(1));

        cds.trainWhenIdle(false);
        assertEquals(List.of(Optional.empty()), spawner.trainedJars, "the fat jar is trained as it is");
        cds.prepare(generation(2));
        cds.trainWhenIdle(false);
        assertEquals(1, spawner.extractions.size(), "a failed extraction is not tried again by this master");
    }

    @Test
    void anExtractionAnotherMasterMadeMeanwhileIsTakenAsIs() throws Exception {
        Cds cds = cds();
        cds.prepare(generation(1));
        Path theirs = dir.resolve("cache").resolve("spring-boot-" + CdsArchive.contentKey(fatJar));
        Files.createDirectories(theirs);
        Files.copy(fatJar, theirs.resolve("service.jar"));
        cds.trainWhenIdle(false);
        assertTrue(spawner.extractions.isEmpty(), "not extracted twice");
        assertEquals(new Cds.Launch(Optional.empty(), Optional.of(theirs.resolve("service.jar"))), cds.launchFor(1));
        cds.trainWhenIdle(false);
        assertEquals(List.of(Optional.of(theirs.resolve("service.jar"))), spawner.trainedJars);
    }

    private Event next() throws InterruptedException {
        Event event = events.poll(20, TimeUnit.SECONDS);
        assertNotNull(event, "the stand-in process's exit was reported");
        return event;
    }

    /** Extraction and training stand-ins: they write their output, then a shell exits with the given status. */
    private static final class FakeSpawner implements Spawner {
        final List<Path> extractions = new ArrayList<>();
        final List<Optional<Path>> trainedJars = new ArrayList<>();
        int extractionStatus;

        @Override
        public WorkerProcess spawn(WorkerSpawner.Spec spec, Settings settings) {
            throw new UnsupportedOperationException("no workers here");
        }

        @Override
        public Process train(Settings settings, Optional<Path> runJar, Path archive) throws IOException {
            trainedJars.add(runJar);
            Files.writeString(archive, "classes");
            return exit(0);
        }

        @Override
        public Process extract(Path fatJar, Path destination) throws IOException {
            extractions.add(destination);
            Files.createDirectories(destination.resolve("lib"));
            Files.copy(fatJar, destination.resolve(fatJar.getFileName()));
            return exit(extractionStatus);
        }

        private static Process exit(int status) throws IOException {
            return new ProcessBuilder("sh", "-c", "exit " + status).start();
        }
    }
}
