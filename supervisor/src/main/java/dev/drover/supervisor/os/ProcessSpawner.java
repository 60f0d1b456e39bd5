package dev.drover.supervisor.os;

import dev.drover.supervisor.config.Settings;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The real Spawner: WorkerSpawner's ProcessBuilder, each worker held through a ChildProcess, booting at the CPU
 * priority BootPriority gives it.
 */
public final class ProcessSpawner implements Spawner {

    private final WorkerSpawner spawner;
    private final BootPriority priority;

    public ProcessSpawner(WorkerSpawner spawner, BootPriority priority) {
        this.spawner = spawner;
        this.priority = priority;
    }

    @Override
    public WorkerProcess spawn(WorkerSpawner.Spec spec, Settings settings) throws IOException {
        // Registered for OrphanReaper as they start (Children): each is a child the JDK reaps.
        WorkerSpawner.Started started = priority.spawn(settings.recycle().bootNice(), settings.recycle().servingNice(),
                () -> Children.start(() -> spawner.spawn(spec, settings), WorkerSpawner.Started::process));
        return ChildProcess.adopt(started.process(), started.cgroup());
    }

    @Override
    public Process train(Settings settings, java.util.Optional<Path> runJar, Path archive) throws IOException {
        // At the boot nice too, and never returned from it: a training run serves nobody.
        int nice = Math.max(settings.recycle().bootNice(), settings.recycle().servingNice());
        return priority.spawn(nice, nice, () -> Children.start(() -> spawner.train(settings, runJar,
                archive)));
    }

    @Override
    public void serving(WorkerProcess process, Settings settings) {
        priority.serving(process.pid(), settings.recycle().bootNice(), settings.recycle().servingNice());
    }

    @Override
    public java.util.Optional<String> standbyKey(Settings settings, java.util.List<Listener> listeners) {
        return spawner.standbyKey(settings, listeners);
    }

    @Override
    public java.util.Optional<dev.drover.link.LinkMessage> adoption(WorkerSpawner.Spec spec, Settings settings) {
        return spawner.adoption(spec, settings);
    }

    @Override
    public Path seenByWorker(Path file) {
        return spawner.seenByWorker(file);
    }

    @Override
    public Process extract(Path fatJar, Path destination) throws IOException {
        return Children.start(() -> spawner.extract(fatJar, destination));
    }
}
