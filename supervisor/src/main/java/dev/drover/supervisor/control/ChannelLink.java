package dev.drover.supervisor.control;

import dev.drover.link.LinkMessage;
import dev.drover.supervisor.os.Listener;
import io.netty.channel.Channel;
import io.netty.channel.unix.FileDescriptor;
import java.util.List;

/** A control link over a Netty channel of the link socket (WorkerLinkServer); equal when the channel is. */
record ChannelLink(Channel channel) implements WorkerLink {

    @Override
    public void send(LinkMessage message) {
        channel.writeAndFlush(message);
    }

    @Override
    public void sendListeningSockets(List<Listener> listeners) {
        for (Listener listener : listeners) {
            channel.write(new FileDescriptor(listener.fd()));
        }
        channel.flush();
    }

    @Override
    public void close() {
        channel.close();
    }
}
