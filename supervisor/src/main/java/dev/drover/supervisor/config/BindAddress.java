package dev.drover.supervisor.config;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One {@code drover.bind} entry, parsed: a TCP host and port, a Unix socket path, or an inherited fd. */
public sealed interface BindAddress {

    /** Gunicorn's port when an address names only a host. */
    int DEFAULT_PORT = 8000;

    String EXPECTED = "HOST:PORT, [IPv6]:PORT, HOST, unix:PATH, fd://N or systemd:NAME, with PORT in 0..65535";

    /** A socket systemd passed, by its name (FileDescriptorName=, LISTEN_FDNAMES): resolved by SettingsReader. */
    String SYSTEMD_PREFIX = "systemd:";

    record Tcp(String host, int port) implements BindAddress {
        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    record Unix(Path path) implements BindAddress {
        @Override
        public String toString() {
            return "unix:" + path;
        }
    }

    record Fd(int fd) implements BindAddress {
        @Override
        public String toString() {
            return "fd://" + fd;
        }
    }

    Pattern IPV6 = Pattern.compile("\\[([0-9A-Fa-f:.%a-zA-Z]+)](?::(\\d{1,5}))?");
    Pattern HOST_PORT = Pattern.compile("([A-Za-z0-9.-]+)(?::(\\d{1,5}))?");

    /** Parses one address; returns null when it matches none of the forms (the caller reports it with its origin). */
    static BindAddress parse(String text) {
        String s = text.trim();
        if (s.startsWith("unix:")) {
            String path = s.substring("unix:".length());
            return path.isEmpty() ? null : new Unix(Path.of(path));
        }
        if (s.startsWith("fd://")) {
            try {
                int fd = Integer.parseInt(s.substring("fd://".length()));
                return fd >= 0 ? new Fd(fd) : null;
            } catch (NumberFormatException e) {
                return null;
            }
        }
        Matcher m = IPV6.matcher(s);
        if (!m.matches()) {
            m = HOST_PORT.matcher(s);
            if (!m.matches()) {
                return null;
            }
        }
        int port = m.group(2) == null ? DEFAULT_PORT : Integer.parseInt(m.group(2));
        return port <= 65535 ? new Tcp(m.group(1), port) : null;
    }
}
