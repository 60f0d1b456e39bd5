package dev.drover.supervisor.metrics;

import dev.drover.supervisor.os.ListenQueue;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The service's TCP listening sockets' accept queues, read at each scrape from the master's own listeners with
 * {@link ListenQueue} (Unix sockets: Linux shows theirs only over netlink's sock_diag, so none).
 */
public final class ListenQueues implements DroverCollector.Backlogs {

    @Override
    public Map<String, ListenQueue> apply(List<Snapshot.Socket> sockets) {
        Map<String, ListenQueue> queues = new LinkedHashMap<>();
        for (Snapshot.Socket socket : sockets) {
            if (socket.kind().equals("tcp")) {
                ListenQueue.of(socket.listener()).ifPresent(q -> queues.put(socket.address(), q));
            }
        }
        return queues;
    }
}
