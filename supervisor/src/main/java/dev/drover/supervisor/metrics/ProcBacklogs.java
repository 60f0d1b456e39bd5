package dev.drover.supervisor.metrics;

import dev.drover.supervisor.os.ProcSockets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The service's TCP listening sockets' accept queues as Linux shows them: the master's fd of each names its inode,
 * and the LISTEN row of that inode in /proc/self/net/tcp{,6} gives the queue (Unix sockets show none there).
 */
public final class ProcBacklogs implements DroverCollector.Backlogs {

    @Override
    public Map<String, Long> apply(List<Snapshot.Socket> sockets) {
        Map<Long, String> byInode = new HashMap<>();
        for (Snapshot.Socket socket : sockets) {
            long inode = socket.kind().equals("tcp") ? ProcSockets.ownInode(socket.fd()) : -1;
            if (inode >= 0) {
                byInode.put(inode, socket.address());
            }
        }
        Map<String, Long> queues = new LinkedHashMap<>();
        if (!byInode.isEmpty()) {
            ProcSockets.acceptQueues(byInode.keySet()).forEach((inode, q) -> queues.put(byInode.get(inode), q));
        }
        return queues;
    }
}
