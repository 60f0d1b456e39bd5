package dev.drover.supervisor.os;

import dev.drover.supervisor.config.BindAddress;
import io.netty.channel.Channel;
import io.netty.channel.unix.UnixChannel;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One listening socket the master holds and never accepts on; workers receive its fd and accept on their copy.
 * {@code kind} tells a worker which Netty channel wraps it: "tcp" or "unix".
 */
public record Listener(BindAddress address, String kind, Channel channel, Optional<Path> createdFile) {

    public int fd() {
        return ((UnixChannel) channel).fd().intValue();
    }

    /** How the log names it, with the real port when the address asked for port 0. */
    public String display() {
        if (kind.equals("unix")) {
            return address instanceof BindAddress.Unix u ? "unix:" + u.path() : address + " (unix)";
        }
        java.net.InetSocketAddress local = (java.net.InetSocketAddress) channel.localAddress();
        String host = local.getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + local.getPort();
    }
}
