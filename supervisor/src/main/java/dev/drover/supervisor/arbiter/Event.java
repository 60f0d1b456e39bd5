package dev.drover.supervisor.arbiter;

import dev.drover.link.LinkMessage;
import dev.drover.supervisor.control.WorkerLink;
import java.util.concurrent.CompletableFuture;

/**
 * Everything that happens to the master arrives as an event on the arbiter's queue: signal handlers, Netty
 * handlers (through Master), process-exit readers and the control socket only ever post one of these.
 */
public sealed interface Event {

    /** A signal was delivered (name without "SIG"). Signals coalesce: it means "at least once". */
    record SignalReceived(String name) implements Event {
    }

    /** A worker's process ended with this status (128+N when killed by signal N). */
    record WorkerExited(WorkerHandle worker, int status) implements Event {
    }

    /** A control-link connection introduced itself; {@code peerPid} comes from SO_PEERCRED, not from the message. */
    record LinkHello(WorkerLink link, LinkMessage hello, long peerPid) implements Event {
    }

    /** A message on an attached control link. */
    record LinkReceived(WorkerLink link, LinkMessage message) implements Event {
    }

    /** A control link broke the protocol or failed; {@code problem} says how. */
    record LinkFailed(WorkerLink link, String problem) implements Event {
    }

    /** The AppCDS training run for {@code archive} ended with this status. */
    record TrainingExited(java.nio.file.Path archive, int status) implements Event {
    }

    /** Spring Boot's extraction of a fat jar into {@code directory} (SpringBootExtraction) ended with this status. */
    record ExtractionExited(java.nio.file.Path directory, int status) implements Event {
    }

    /** A `drover ctl` command; the arbiter completes {@code reply} with a JSON document. */
    record ControlRequest(String command, CompletableFuture<String> reply) implements Event {
    }

    /** The new installation's configuration check for `drover ctl upgrade` ended with this status and output. */
    record UpgradeChecked(int status, java.util.List<String> output) implements Event {
    }

    /** A child the master before an upgrade in place started (an old worker) was reaped with this status. */
    record InheritedExited(long pid, int status) implements Event {
    }
}
