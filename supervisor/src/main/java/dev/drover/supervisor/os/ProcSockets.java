package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The listening TCP sockets a process holds, read from /proc: its fds name socket inodes, and its network
 * namespace's tcp tables say which inodes listen and on what address. Used once per worker (at READY), so the cost
 * (one directory listing and two table reads: tens of milliseconds on a host with many connections) does not matter.
 */
public final class ProcSockets {

    private static final String LISTEN = "0A";

    private ProcSockets() {
    }

    /** The socket inode behind one of this process's own fds, or -1. */
    public static long ownInode(int fd) {
        return inode(Path.of("/proc/self/fd", Integer.toString(fd)));
    }

    /**
     * Addresses ("127.0.0.1:8080", "[::]:8081") on which {@code pid} holds a listening TCP socket whose inode is not
     * in {@code shared}; empty when there is none or the process is gone.
     */
    public static List<String> listeningBesides(long pid, Set<Long> shared) {
        Set<Long> own = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds) {
                long inode = inode(fd);
                if (inode >= 0 && !shared.contains(inode)) {
                    own.add(inode);
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        List<String> found = new ArrayList<>();
        if (!own.isEmpty()) {
            found.addAll(listening(Path.of("/proc", Long.toString(pid), "net", "tcp"), own));
            found.addAll(listening(Path.of("/proc", Long.toString(pid), "net", "tcp6"), own));
        }
        return found;
    }

    private static long inode(Path fd) {
        try {
            String target = Files.readSymbolicLink(fd).toString();
            return target.startsWith("socket:[") ? Long.parseLong(target.substring(8, target.length() - 1)) : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Rows of /proc/net/tcp{,6}: "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...". */
    static List<String> listening(Path table, Set<Long> inodes) {
        List<String> found = new ArrayList<>();
        List<String> rows;
        try {
            rows = Files.readAllLines(table);
        } catch (IOException e) {
            return found;
        }
        for (String row : rows.subList(Math.min(1, rows.size()), rows.size())) {
            String[] f = row.trim().split("\\s+");
            if (f.length > 9 && f[3].equals(LISTEN) && inodes.contains(parseLong(f[9]))) {
                found.add(address(f[1]));
            }
        }
        return found;
    }

    /** "0100007F:1F90" (IPv4, each 32-bit word in host order: little-endian here) or the IPv6 form. */
    static String address(String hex) {
        int colon = hex.indexOf(':');
        String ip = hex.substring(0, colon);
        int port = Integer.parseInt(hex.substring(colon + 1), 16);
        StringBuilder text = new StringBuilder();
        if (ip.length() == 8) {
            for (int i = 3; i >= 0; i--) {
                text.append(Integer.parseInt(ip.substring(i * 2, i * 2 + 2), 16)).append(i > 0 ? "." : "");
            }
            return text + ":" + port;
        }
        byte[] bytes = new byte[16];
        for (int word = 0; word < 4; word++) {
            for (int b = 0; b < 4; b++) {
                int at = word * 8 + (3 - b) * 2;
                bytes[word * 4 + b] = (byte) Integer.parseInt(ip.substring(at, at + 2), 16);
            }
        }
        try {
            // The JDK's sockets are IPv6 ones even for 127.0.0.1 (as ::ffff:127.0.0.1): shown as the IPv4 address.
            java.net.InetAddress host = java.net.InetAddress.getByAddress(bytes);
            if (host instanceof java.net.Inet4Address) {
                return host.getHostAddress() + ":" + port;
            }
            String text6 = host.getHostAddress();
            return "[" + (text6.equals("0:0:0:0:0:0:0:0") ? "::" : text6) + "]:" + port;
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException("16 bytes are always an address", e);
        }
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
