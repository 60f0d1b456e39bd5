package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.config.AppKind;
import dev.drover.supervisor.config.PathErrors;
import dev.drover.supervisor.config.Settings;
import dev.drover.supervisor.os.CdsArchive;
import dev.drover.supervisor.os.ExitStatus;
import dev.drover.supervisor.os.PrivateDirectory;
import dev.drover.supervisor.os.Spawner;
import dev.drover.supervisor.os.SpringBootJar;
import dev.drover.supervisor.os.WorkerOutput;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spring Boot fat jars extracted for AppCDS, on the arbiter thread: one extraction per jar contents, into
 * drover.cds.cache-dir/spring-boot-KEY/ (KEY: a hash of the jar), made in a private temporary directory and renamed
 * into place whole, so a directory under that name is always complete and another master may share it. Extractions
 * are never removed: a master restarted with the same jar finds its own again (remove old ones by hand).
 */
final class SpringBootExtraction {

    private static final Logger log = LoggerFactory.getLogger(SpringBootExtraction.class);
    /** Extracting a 20 MB jar takes about a second; longer than this, something is stuck. */
    static final Duration TIMEOUT = Duration.ofMinutes(2);

    /** A fat jar and the directory its extraction has (or will have), with the extracted jar named as the fat one. */
    record Target(Path fatJar, Path directory) {
        Path extractedJar() {
            return directory.resolve(fatJar.getFileName());
        }

        boolean done() {
            return Files.isRegularFile(extractedJar(), LinkOption.NOFOLLOW_LINKS);
        }
    }

    /** What {@link #find} made of an app: a target, or none and perhaps why (for the log). */
    record Found(Target target, Optional<String> whyNot) {
    }

    private record Running(Target target, Process process, WorkerOutput output, Path partial, long deadline) {
    }

    private final Spawner spawner;
    private final Consumer<Event> post;
    private final LongSupplier clock;
    private final Map<Path, Running> running = new HashMap<>();
    private final Set<Path> failed = new HashSet<>();

    SpringBootExtraction(Spawner spawner, Consumer<Event> post, LongSupplier clock) {
        this.spawner = spawner;
        this.post = post;
        this.clock = clock;
    }

    /** The extraction these settings' workers can run, if drover.app is a Spring Boot jar that can be extracted. */
    Found find(Settings settings) {
        if (!settings.cds().enabled() || settings.appKind() != AppKind.JAR || settings.runAs().user().isPresent()) {
            return new Found(null, Optional.empty());
        }
        Path jar = Path.of(settings.app()).toAbsolutePath();
        try {
            Optional<SpringBootJar> boot = SpringBootJar.of(jar);
            if (boot.isEmpty()) {
                return new Found(null, Optional.empty());
            }
            if (!boot.get().extractable()) {
                return new Found(null, Optional.of(boot.get().whyNotExtractable() + "; its AppCDS archive is "
                        + "built from the fat jar as it is, without the classes of its nested jars"));
            }
            // Workers will run what is in this directory: it must be ours and writable by nobody else.
            PrivateDirectory.verifyIfExists(settings.cds().cacheDir(), PrivateDirectory.Rule.NOT_WRITABLE_BY_OTHERS);
            return new Found(new Target(jar, settings.cds().cacheDir().resolve("spring-boot-"
                    + CdsArchive.contentKey(jar))), Optional.empty());
        } catch (IOException e) {
            return new Found(null, Optional.of("no Spring Boot extraction: " + (e instanceof PrivateDirectory.Unsafe
                    ? "drover.cds.cache-dir " + e.getMessage() : PathErrors.describe(e))));
        }
    }

    boolean running(Target target) {
        return running.containsKey(target.directory());
    }

    boolean failed(Target target) {
        return failed.contains(target.directory());
    }

    /** Starts the extraction unless it is under way; false if it could not be started (logged, and failed). */
    boolean start(Target target, Settings settings) {
        if (running(target)) {
            return true;
        }
        try {
            PrivateDirectory.createOrVerify(settings.cds().cacheDir(), PrivateDirectory.Rule.NOT_WRITABLE_BY_OTHERS);
            // createTempDirectory makes it 0700: nobody sees the half-made extraction.
            Path partial = Files.createTempDirectory(settings.cds().cacheDir(),
                    target.directory().getFileName() + ".partial-");
            Process process = spawner.extract(target.fatJar(), partial);
            WorkerOutput output = WorkerOutput.follow(process, "Spring Boot extraction (pid " + process.pid() + ")",
                    status -> post.accept(new Event.ExtractionExited(target.directory(), status)));
            running.put(target.directory(), new Running(target, process, output, partial,
                    clock.getAsLong() + TIMEOUT.toNanos()));
            log.info("extracting the Spring Boot jar {} into {} for AppCDS (pid {})", target.fatJar(),
                    target.directory(), process.pid());
            return true;
        } catch (IOException e) {
            failed.add(target.directory());
            log.warn("cannot extract the Spring Boot jar {}: {}; workers run the fat jar", target.fatJar(),
                    e instanceof PrivateDirectory.Unsafe ? e.getMessage() : PathErrors.describe(e));
            return false;
        }
    }

    /** An extraction ended: rename it into place, or record the failure. Empty if it was not one of ours. */
    Optional<Target> finish(Path directory, int status) {
        Running run = running.remove(directory);
        if (run == null) {
            return Optional.empty();
        }
        String problem = status == 0 ? rename(run) : ExitStatus.describe(status);
        if (problem != null) {
            failed.add(directory);
            deleteTree(run.partial());
            log.warn("the extraction of the Spring Boot jar {} failed ({}); workers run the fat jar. Its last "
                    + "output:\n  {}", run.target().fatJar(), problem, String.join("\n  ", run.output().tail()));
        } else {
            log.info("the Spring Boot jar {} is extracted into {}", run.target().fatJar(), directory);
        }
        return Optional.of(run.target());
    }

    /** Null when the extraction is in place (ours, or another master's made meanwhile), else what went wrong. */
    private static String rename(Running run) {
        Path made = run.partial().resolve(run.target().fatJar().getFileName());
        if (!Files.isRegularFile(made, LinkOption.NOFOLLOW_LINKS)) {
            return "it made no " + made.getFileName();
        }
        try {
            Files.move(run.partial(), run.target().directory(), StandardCopyOption.ATOMIC_MOVE);
            return null;
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
            deleteTree(run.partial());
            return run.target().done() ? null : run.target().directory() + " exists but holds no "
                    + made.getFileName();
        } catch (IOException e) {
            return "cannot rename it into place: " + PathErrors.describe(e);
        }
    }

    void tick(long now) {
        for (Running run : running.values()) {
            if (now - run.deadline() >= 0 && run.process().isAlive()) {
                log.warn("the extraction of {} (pid {}) did not finish within {}; killing it", run.target().fatJar(),
                        run.process().pid(), Arbiter.seconds(TIMEOUT));
                run.process().destroyForcibly();
            }
        }
    }

    void abort() {
        for (Running run : running.values()) {
            run.process().destroyForcibly();
            try {
                run.process().waitFor(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            deleteTree(run.partial());
        }
        running.clear();
    }

    /** Removes a half-made extraction; what cannot be removed stays as litter under a ".partial-" name. */
    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    // left behind, and never used: its name is not an extraction's
                }
            });
        } catch (IOException e) {
            // as above
        }
    }
}
