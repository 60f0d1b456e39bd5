package dev.drover.worker.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.drover.worker.api.WorkerContext;

/** The runtime's {@link WorkerContext}: identity from the master, configuration from the shared file. */
record RuntimeContext(int workerId, int generation, long pid, Config config) implements WorkerContext {

    @Override
    public Config section(String root) {
        return config.hasPath(root) ? config.getConfig(root) : ConfigFactory.empty();
    }
}
