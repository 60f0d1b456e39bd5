package dev.drover.supervisor.upgrade;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a master hands to the master it execs into (same pid): its version, generation and upgrade count, the fds of
 * its listening sockets with the addresses they serve, and its children (workers with their ids and generations;
 * anything else, such as an AppCDS training run, to be stopped and reaped). It travels in one environment variable,
 * DROVER_INTERNAL_UPGRADE, readable only by the master's user and root (/proc/PID/environ is 0400); it holds no secret.
 */
public record UpgradeState(String version, int generation, int upgrades, List<Socket> sockets, List<Child> workers,
                           List<Long> others) {

    public static final String VARIABLE = "DROVER_INTERNAL_UPGRADE";

    /** A listening socket kept open across the exec: the bind address it serves (as drover.bind writes it), its fd. */
    public record Socket(String address, int fd) {
    }

    /** A worker of the old master: its pid, slot id, generation and state (booting, serving, draining, killed). */
    public record Child(long pid, int id, int generation, String state) {
    }

    public String encode() {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("v", "1");
        fields.put("version", version);
        fields.put("generation", Integer.toString(generation));
        fields.put("upgrades", Integer.toString(upgrades));
        fields.put("sockets", String.join(",", sockets.stream().map(s -> enc(s.address()) + "@" + s.fd()).toList()));
        fields.put("workers", String.join(",", workers.stream()
                .map(w -> w.pid() + ":" + w.id() + ":" + w.generation() + ":" + w.state()).toList()));
        fields.put("others", String.join(",", others.stream().map(String::valueOf).toList()));
        return String.join("&", fields.entrySet().stream().map(e -> e.getKey() + "=" + enc(e.getValue())).toList());
    }

    /** The state in {@code env}, if this master was exec'd by an upgrade; a malformed one is an error. */
    public static Optional<UpgradeState> from(Map<String, String> env) {
        String text = env.get(VARIABLE);
        if (text == null || text.isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> f = new LinkedHashMap<>();
        for (String pair : text.split("&")) {
            int eq = pair.indexOf('=');
            f.put(pair.substring(0, eq), dec(pair.substring(eq + 1)));
        }
        if (!"1".equals(f.get("v"))) {
            throw new IllegalArgumentException(VARIABLE + " of format " + f.get("v") + ", expected 1: the old master "
                    + "is of a Drover version this one cannot take over from");
        }
        List<Socket> sockets = new ArrayList<>();
        for (String s : items(f.get("sockets"))) {
            int at = s.lastIndexOf('@');
            sockets.add(new Socket(dec(s.substring(0, at)), Integer.parseInt(s.substring(at + 1))));
        }
        List<Child> workers = new ArrayList<>();
        for (String w : items(f.get("workers"))) {
            String[] p = w.split(":");
            workers.add(new Child(Long.parseLong(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]), p[3]));
        }
        return Optional.of(new UpgradeState(f.get("version"), Integer.parseInt(f.get("generation")),
                Integer.parseInt(f.get("upgrades")), sockets, workers,
                items(f.get("others")).stream().map(Long::parseLong).toList()));
    }

    private static List<String> items(String list) {
        return list == null || list.isEmpty() ? List.of() : List.of(list.split(","));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String dec(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
