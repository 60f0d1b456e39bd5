package dev.drover.worker.api;

import com.typesafe.config.Config;

/** What a worker knows about itself, handed to {@link DroverApp#start}. */
public interface WorkerContext {

    /** The worker's slot number, 1..workers; a replacement keeps the id of the worker it replaces. */
    int workerId();

    /** The configuration generation this worker was started with (1 at start, +1 on every reload). */
    int generation();

    /** The worker JVM's own process id. */
    long pid();

    /**
     * The application's own section of the configuration file: everything under {@code root}, merged over the
     * app's {@code reference.conf}; empty if neither has it.
     */
    Config section(String root);
}
