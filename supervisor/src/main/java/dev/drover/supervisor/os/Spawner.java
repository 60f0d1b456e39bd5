package dev.drover.supervisor.os;

import dev.drover.supervisor.config.Settings;
import java.io.IOException;
import java.nio.file.Path;

/** Starts worker JVMs and AppCDS training runs: ProcessSpawner for real, a fake in the arbiter's unit tests. */
public interface Spawner {

    /** Starts a worker JVM; WorkerProcess.follow then relays its output and reports its exit. */
    WorkerProcess spawn(WorkerSpawner.Spec spec, Settings settings) throws IOException;

    /** Starts the AppCDS training run that writes {@code archive}; {@code runJar} as in WorkerSpawner.Spec. */
    Process train(Settings settings, java.util.Optional<Path> runJar, Path archive) throws IOException;

    /** Starts Spring Boot's extraction of {@code fatJar} into {@code destination}. */
    Process extract(Path fatJar, Path destination) throws IOException;

    /** A worker is READY: it serves from now on, at the serving CPU priority (BootPriority). */
    default void serving(WorkerProcess process, Settings settings) {
    }

    /** What a standby JVM of these settings is started as (WorkerSpawner.standbyKey); empty: none may be. */
    default java.util.Optional<String> standbyKey(Settings settings, java.util.List<Listener> listeners) {
        return java.util.Optional.empty();
    }

    /** ADOPT for a standby to become the worker {@code spec} (WorkerSpawner.adoption); empty: spawn it instead. */
    default java.util.Optional<dev.drover.link.LinkMessage> adoption(WorkerSpawner.Spec spec, Settings settings) {
        return java.util.Optional.empty();
    }

    /** {@code file}, in the directory the workers reach, as a worker names it (WorkerDirectory). */
    default Path seenByWorker(Path file) {
        return file;
    }
}
