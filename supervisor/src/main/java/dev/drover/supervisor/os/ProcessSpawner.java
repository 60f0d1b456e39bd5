package dev.drover.supervisor.os;

import dev.drover.supervisor.config.Settings;
import java.io.IOException;
import java.nio.file.Path;

/** The real Spawner: WorkerSpawner's ProcessBuilder, each worker held through a ChildProcess. */
public final class ProcessSpawner implements Spawner {

    private final WorkerSpawner spawner;

    public ProcessSpawner(WorkerSpawner spawner) {
        this.spawner = spawner;
    }

    @Override
    public WorkerProcess spawn(WorkerSpawner.Spec spec, Settings settings) throws IOException {
        WorkerSpawner.Started started = spawner.spawn(spec, settings);
        return ChildProcess.adopt(started.process(), started.cgroup());
    }

    @Override
    public Process train(Settings settings, java.util.Optional<Path> runJar, Path archive) throws IOException {
        return spawner.train(settings, runJar, archive);
    }

    @Override
    public Path seenByWorker(Path file) {
        return spawner.seenByWorker(file);
    }

    @Override
    public Process extract(Path fatJar, Path destination) throws IOException {
        return spawner.extract(fatJar, destination);
    }
}
