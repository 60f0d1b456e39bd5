package dev.drover.supervisor.metrics;

import dev.drover.supervisor.control.ControlServer;
import dev.drover.supervisor.control.Json;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * The control socket's requests, with `health` answered here from the latest snapshot, on the client's thread: an
 * exec probe must learn that the arbiter is stuck, not wait for it. Every other command goes to {@code next}.
 */
public final class HealthRequests implements ControlServer.Requests {

    private final SnapshotBoard board;
    private final LongSupplier clock;
    private final ControlServer.Requests next;

    public HealthRequests(SnapshotBoard board, LongSupplier clock, ControlServer.Requests next) {
        this.board = board;
        this.clock = clock;
        this.next = next;
    }

    @Override
    public void request(String command, CompletableFuture<String> reply) {
        if (!command.trim().equals("health")) {
            next.request(command, reply);
            return;
        }
        Health health = Health.of(board.latest(), clock.getAsLong());
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("alive", health.alive());
        answer.put("ready", health.ready());
        answer.put("reason", health.line());
        reply.complete(Json.write(Map.of("health", answer)));
    }
}
