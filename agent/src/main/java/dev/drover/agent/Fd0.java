package dev.drover.agent;

import java.io.IOException;
import java.nio.channels.Channel;
import java.nio.channels.NetworkChannel;

/** The socket Drover passes on fd 0, as the JDK sees it (System.inheritedChannel() caches it at its first call). */
final class Fd0 {

    private Fd0() {
    }

    static Channel inheritedChannel() {
        try {
            return System.inheritedChannel();
        } catch (IOException | SecurityException e) {
            return null;
        }
    }

    /** For messages: a channel's local address, or what it is when it has none. */
    static String describe(Object channel) {
        if (channel == null) {
            return "no listening socket";
        }
        if (channel instanceof NetworkChannel) {
            try {
                return "listener " + ((NetworkChannel) channel).getLocalAddress();
            } catch (IOException e) {
                return "a closed listener";
            }
        }
        return channel.getClass().getSimpleName();
    }
}
