package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.os.CdsArchive;
import dev.drover.supervisor.config.PathErrors;
import dev.drover.supervisor.config.Settings;
import dev.drover.supervisor.os.PrivateDirectory;
import dev.drover.supervisor.os.Spawner;
import dev.drover.supervisor.os.WorkerOutput;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's side of AppCDS and of JDK 25's AOT cache (CdsArchive.Kind: "archive" below means either), run on the
 * arbiter thread: for each generation, use its archive if it exists, else build it with one training run in the
 * background. A Spring Boot fat jar is first extracted (SpringBootExtraction),
 * also in the background, and its workers then run the extracted jar, whose classes an archive can hold. None of
 * this ever delays serving: workers spawn on the fat jar and without an archive until each step is in place, and a
 * failure only costs a warning.
 */
final class Cds {

    private static final Logger log = LoggerFactory.getLogger(Cds.class);
    /** A training run longer than this is killed: the app's start() is stuck, or the machine is. */
    static final Duration TRAINING_TIMEOUT = Duration.ofMinutes(2);

    /** What a worker of a generation starts with: the archive to map, and the jar to run instead of drover.app. */
    record Launch(Optional<Path> archive, Optional<Path> runJar) {
    }

    private record Training(Process process, WorkerOutput output, Path partial, CdsArchive.Kind kind, long deadline) {
    }

    /**
     * One generation's plan. {@code extraction}: the Spring Boot extraction it waits for (null: none); {@code
     * runJar}: the extracted jar once there; {@code archive}: null while the extraction is awaited.
     */
    private static final class Plan {
        final Generation generation;
        final SpringBootExtraction.Target extraction;
        Path runJar;
        CdsArchive archive;

        Plan(Generation generation, SpringBootExtraction.Target extraction, Path runJar, CdsArchive archive) {
            this.generation = generation;
            this.extraction = extraction;
            this.runJar = runJar;
            this.archive = archive;
        }
    }

    private final Spawner spawner;
    private final Consumer<Event> post;
    private final LongSupplier clock;
    private final SpringBootExtraction extractions;
    private final Map<Integer, Plan> byGeneration = new HashMap<>();
    private final Map<Path, Training> running = new HashMap<>();
    private final Set<Path> failed = new HashSet<>();
    /** The generation whose extraction or archive is to be made once no worker is booting (not to slow a boot). */
    private Generation pending;

    /** {@code post}: where a training run's or an extraction's exit is reported, as an event. */
    Cds(Spawner spawner, Consumer<Event> post, LongSupplier clock) {
        this.spawner = spawner;
        this.post = post;
        this.clock = clock;
        this.extractions = new SpringBootExtraction(spawner, post, clock);
    }

    void prepare(Generation generation) {
        Plan plan = plan(generation);
        byGeneration.put(generation.number(), plan);
        if (plan.archive != null) {
            decide(plan);
        } else if (!extractions.running(plan.extraction)) {
            pending = generation;
            log.info("generation {}: {} is a Spring Boot jar; for AppCDS it will be extracted once the workers are "
                    + "up (workers run the fat jar meanwhile)", generation.number(), plan.extraction.fatJar());
        }
    }

    private Plan plan(Generation generation) {
        Settings settings = generation.settings();
        SpringBootExtraction.Found found = extractions.find(settings);
        if (found.target() == null) {
            found.whyNot().ifPresent(why -> log.info("generation {}: {}", generation.number(), why));
            return new Plan(generation, null, null, CdsArchive.plan(settings));
        }
        if (found.target().done()) {
            Path jar = found.target().extractedJar();
            log.info("generation {}: workers run {}, the extraction of the Spring Boot jar", generation.number(), jar);
            return new Plan(generation, found.target(), jar, CdsArchive.plan(settings, jar));
        }
        return new Plan(generation, found.target(), null, extractions.failed(found.target())
                ? CdsArchive.plan(settings) : null);
    }

    /** Logs what the plan's archive means for workers, and queues its training if it is to be built. */
    private void decide(Plan plan) {
        int number = plan.generation.number();
        CdsArchive archive = plan.archive;
        if (!archive.possible()) {
            log.info("generation {}: no {} ({})", number, archive.kind().label(), archive.whyNot());
        } else if (archive.exists()) {
            log.info("generation {}: workers use the {} {}", number, archive.kind().label(), archive.path());
        } else if (!running.containsKey(archive.path()) && !failed.contains(archive.path())) {
            pending = plan.generation;
            log.info("generation {}: no {} yet; it will be built once the workers are up", number,
                    archive.kind().label());
        }
    }

    /** Starts the pending extraction or training run, if any, once no worker is booting. */
    void trainWhenIdle(boolean anyBooting) {
        if (pending == null || anyBooting) {
            return;
        }
        Plan plan = byGeneration.get(pending.number());
        pending = null;
        if (plan.archive == null) {
            if (plan.extraction.done()) { // another master sharing the cache dir made it meanwhile
                onExtracted(plan.extraction, true);
            } else if (!extractions.start(plan.extraction, plan.generation.settings())) {
                onExtracted(plan.extraction, false);
            }
            return;
        }
        CdsArchive archive = plan.archive;
        if (archive.possible() && !archive.exists() && !running.containsKey(archive.path())
                && !failed.contains(archive.path())) {
            train(plan, archive);
        }
    }

    /** An extraction ended: its generations get their jar and archive plan, or fall back to the fat jar. */
    void onExtractionExited(Path directory, int status) {
        extractions.finish(directory, status).ifPresent(target -> onExtracted(target, !extractions.failed(target)));
    }

    private void onExtracted(SpringBootExtraction.Target target, boolean ok) {
        for (Plan plan : byGeneration.values()) {
            if (plan.archive != null || plan.extraction == null
                    || !plan.extraction.directory().equals(target.directory())) {
                continue;
            }
            Settings settings = plan.generation.settings();
            if (ok) {
                plan.runJar = target.extractedJar();
                plan.archive = CdsArchive.plan(settings, plan.runJar);
                log.info("generation {}: workers spawned from now on run {}, the extraction of the Spring Boot jar",
                        plan.generation.number(), plan.runJar);
            } else {
                plan.archive = CdsArchive.plan(settings);
            }
            decide(plan);
        }
    }

    private void train(Plan plan, CdsArchive planned) {
        int number = plan.generation.number();
        Path archive = planned.path();
        String label = planned.kind().label();
        Path partial = archive.resolveSibling(archive.getFileName() + ".partial-" + ProcessHandle.current().pid());
        try {
            PrivateDirectory.createOrVerify(archive.getParent(), PrivateDirectory.Rule.NOT_WRITABLE_BY_OTHERS);
            Files.deleteIfExists(partial);
            Process process = spawner.train(plan.generation.settings(), Optional.ofNullable(plan.runJar), partial);
            WorkerOutput output = WorkerOutput.follow(process, label + " training (pid " + process.pid() + ")",
                    status -> post.accept(new Event.TrainingExited(archive, status)));
            running.put(archive, new Training(process, output, partial, planned.kind(),
                    clock.getAsLong() + TRAINING_TIMEOUT.toNanos()));
            log.info("generation {}: building the {} {} with a training run (pid {}, Java {}); workers spawned "
                    + "meanwhile start without it", number, label, archive, process.pid(),
                    plan.generation.settings().workerJava().feature());
        } catch (IOException e) {
            failed.add(archive);
            log.warn("generation {}: cannot start the {} training run: {}; workers run without one",
                    number, label, e instanceof PrivateDirectory.Unsafe ? e.getMessage() : PathErrors.describe(e));
        }
    }

    /** What a worker of this generation starts with: its archive if it exists yet, and its extracted jar if any. */
    Launch launchFor(int generation) {
        Plan plan = byGeneration.get(generation);
        if (plan == null) {
            return new Launch(Optional.empty(), Optional.empty());
        }
        Optional<Path> archive = plan.archive != null && plan.archive.exists() ? Optional.of(plan.archive.path())
                : Optional.empty();
        return new Launch(archive, Optional.ofNullable(plan.runJar));
    }

    /** How a worker of this generation that mapped its archive names it in its "ready" line. */
    String shortLabel(int generation) {
        Plan plan = byGeneration.get(generation);
        return (plan == null || plan.archive == null ? CdsArchive.Kind.APPCDS : plan.archive.kind()).shortLabel();
    }

    void onTrainingExited(Path archive, int status) {
        Training training = running.remove(archive);
        if (training == null) {
            return;
        }
        try {
            if (status == 0 && Files.size(training.partial()) > 0) {
                makePrivate(training.partial());
                move(training.partial(), archive);
                log.info("{} {} is ready ({} MiB): workers spawned from now on use it", training.kind().label(),
                        archive, Files.size(archive) >> 20);
                return;
            }
        } catch (IOException e) {
            log.warn("{} {}: {}", training.kind().label(), archive, PathErrors.describe(e));
        }
        failed.add(archive);
        discard(training);
        log.warn("the {} training run for {} failed ({}); workers run without one. Its last output:\n  {}",
                training.kind().label(), archive, dev.drover.supervisor.os.ExitStatus.describe(status),
                String.join("\n  ", training.output().tail()));
    }

    /** Kills a training run or an extraction that takes too long. */
    void tick(long now) {
        for (Training training : running.values()) {
            if (now - training.deadline() >= 0 && training.process().isAlive()) {
                log.warn("the {} training run (pid {}) did not finish within {}; killing it",
                        training.kind().label(), training.process().pid(), Arbiter.seconds(TRAINING_TIMEOUT));
                kill(training.process());
            }
        }
        extractions.tick(now);
    }

    /** At the master's exit: no training run or extraction outlives it. */
    void abort() {
        for (Training training : running.values()) {
            kill(training.process());
            try {
                training.process().waitFor(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            discard(training);
        }
        running.clear();
        extractions.abort();
    }

    /**
     * The training JVM creates the archive itself, with its own mode (0444), so it is made 0600 here. A chmod
     * through a path is safe in this directory only: it was verified to be ours and writable by nobody else, so
     * nobody else can have put a link at this name.
     */
    private static void makePrivate(Path archive) throws IOException {
        if (!Files.isRegularFile(archive, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(archive + " is not a regular file");
        }
        Files.setPosixFilePermissions(archive, PosixFilePermissions.fromString("rw-------"));
    }

    /**
     * Kills a training run and what it started: on 25 the training JVM forks the JVM that assembles the cache at
     * its exit, which would otherwise finish its work after the master is gone.
     */
    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /** A failed or killed run's partial archive and, on 25, the configuration it recorded for the assembly. */
    private static void discard(Training training) {
        deleteQuietly(training.partial());
        training.kind().scratch(training.partial()).ifPresent(Cds::deleteQuietly);
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // a leftover partial file is overwritten by the next training
        }
    }
}
