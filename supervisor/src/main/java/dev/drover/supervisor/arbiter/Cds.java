package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.os.CdsArchive;
import dev.drover.supervisor.config.PathErrors;
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
 * The master's side of AppCDS, run on the arbiter thread: for each generation, use its archive if it exists, else
 * build it with one training run in the background. Building never delays serving: workers spawn without the
 * archive until it is in place, and a failed training only costs a warning.
 */
final class Cds {

    private static final Logger log = LoggerFactory.getLogger(Cds.class);
    /** A training run longer than this is killed: the app's start() is stuck, or the machine is. */
    static final Duration TRAINING_TIMEOUT = Duration.ofMinutes(2);

    private record Training(Process process, WorkerOutput output, Path partial, long deadline) {
    }

    private final Spawner spawner;
    private final Consumer<Event> post;
    private final LongSupplier clock;
    private final Map<Integer, CdsArchive> byGeneration = new HashMap<>();
    private final Map<Path, Training> running = new HashMap<>();
    private final Set<Path> failed = new HashSet<>();
    /** The generation whose archive is to be built once no worker is booting (training must not slow a boot). */
    private Generation pending;

    /** {@code post}: where a training run's exit is reported, as an event. */
    Cds(Spawner spawner, Consumer<Event> post, LongSupplier clock) {
        this.spawner = spawner;
        this.post = post;
        this.clock = clock;
    }

    void prepare(Generation generation) {
        CdsArchive archive = CdsArchive.plan(generation.settings());
        byGeneration.put(generation.number(), archive);
        if (!archive.possible()) {
            log.info("generation {}: no AppCDS archive ({})", generation.number(), archive.whyNot());
        } else if (archive.exists()) {
            log.info("generation {}: workers use the AppCDS archive {}", generation.number(), archive.path());
        } else if (!running.containsKey(archive.path()) && !failed.contains(archive.path())) {
            pending = generation;
            log.info("generation {}: no AppCDS archive yet; it will be built once the workers are up",
                    generation.number());
        }
    }

    /** Starts the pending training run, if any, once no worker is booting. */
    void trainWhenIdle(boolean anyBooting) {
        if (pending == null || anyBooting) {
            return;
        }
        Generation generation = pending;
        pending = null;
        CdsArchive archive = byGeneration.get(generation.number());
        if (!archive.exists() && !running.containsKey(archive.path()) && !failed.contains(archive.path())) {
            train(generation, archive.path());
        }
    }

    private void train(Generation generation, Path archive) {
        Path partial = archive.resolveSibling(archive.getFileName() + ".partial-" + ProcessHandle.current().pid());
        try {
            PrivateDirectory.createOrVerify(archive.getParent(), PrivateDirectory.Rule.NOT_WRITABLE_BY_OTHERS);
            Files.deleteIfExists(partial);
            Process process = spawner.train(generation.settings(), partial);
            WorkerOutput output = WorkerOutput.follow(process, "AppCDS training (pid " + process.pid() + ")",
                    status -> post.accept(new Event.TrainingExited(archive, status)));
            running.put(archive, new Training(process, output, partial, clock.getAsLong() + TRAINING_TIMEOUT.toNanos()));
            log.info("generation {}: building the AppCDS archive {} with a training run (pid {}); workers spawned "
                    + "meanwhile start without it", generation.number(), archive, process.pid());
        } catch (IOException e) {
            failed.add(archive);
            log.warn("generation {}: cannot start the AppCDS training run: {}; workers run without an archive",
                    generation.number(), e instanceof PrivateDirectory.Unsafe ? e.getMessage() : PathErrors.describe(e));
        }
    }

    /** The archive a worker of this generation should map, if it exists yet. */
    Optional<Path> archiveFor(int generation) {
        CdsArchive archive = byGeneration.get(generation);
        return archive != null && archive.exists() ? Optional.of(archive.path()) : Optional.empty();
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
                log.info("AppCDS archive {} is ready ({} MiB): workers spawned from now on use it", archive,
                        Files.size(archive) >> 20);
                return;
            }
        } catch (IOException e) {
            log.warn("AppCDS archive {}: {}", archive, PathErrors.describe(e));
        }
        failed.add(archive);
        deleteQuietly(training.partial());
        log.warn("the AppCDS training run for {} failed ({}); workers run without an archive. Its last output:\n  {}",
                archive, dev.drover.supervisor.os.ExitStatus.describe(status),
                String.join("\n  ", training.output().tail()));
    }

    /** Kills a training run that takes too long. */
    void tick(long now) {
        for (Training training : running.values()) {
            if (now - training.deadline() >= 0 && training.process().isAlive()) {
                log.warn("the AppCDS training run (pid {}) did not finish within {}; killing it",
                        training.process().pid(), Arbiter.seconds(TRAINING_TIMEOUT));
                training.process().destroyForcibly();
            }
        }
    }

    /** At the master's exit: no training run outlives it. */
    void abort() {
        for (Training training : running.values()) {
            training.process().destroyForcibly();
            try {
                training.process().waitFor(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            deleteQuietly(training.partial());
        }
        running.clear();
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
