package dev.drover.worker.runtime;

import dev.drover.link.ExitCodes;
import java.util.Map;

/**
 * The entry point of every worker JVM. The master starts it with {@code DROVER_INTERNAL_*} variables in the
 * environment; see {@link Worker} for the boot sequence.
 */
public final class WorkerMain {

    private WorkerMain() {
    }

    public static void main(String[] args) {
        long mainStarted = System.nanoTime();
        // First: from here on, nothing that prints or logs can block on a master that does not read (OutputBuffer).
        OutputBuffer.install();
        LazyLogging.install();
        WorkerEnv env;
        try {
            env = WorkerEnv.fromEnvironment(Map.copyOf(System.getenv()));
        } catch (RuntimeException e) {
            System.err.println("drover worker: " + e.getMessage());
            System.exit(ExitCodes.USAGE);
            return;
        }
        System.exit(new Worker(env, mainStarted).run());
    }
}
