package dev.drover.supervisor.control;

import dev.drover.link.LinkMessage;
import dev.drover.supervisor.os.Listener;
import java.util.List;

/**
 * The master's end of one worker's control link, as the arbiter uses it: ChannelLink over a Netty channel for
 * real, a recording fake in the arbiter's unit tests. Equal links are the same connection.
 */
public interface WorkerLink {

    void send(LinkMessage message);

    /** Hands the worker the listening sockets, in order (SCM_RIGHTS). */
    void sendListeningSockets(List<Listener> listeners);

    void close();
}
