package dev.drover.supervisor.systemd;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The listening sockets systemd passed to the master (socket activation, or systemd-socket-activate): LISTEN_FDS
 * sockets from fd 3 on, meant for this process only if LISTEN_PID is its pid, named by LISTEN_FDNAMES. Read as
 * sd_listen_fds_with_names(3) reads them; {@code ignored} says why variables that were set were not used.
 */
public record SocketActivation(List<Passed> sockets, Optional<String> ignored) {

    /** systemd's SD_LISTEN_FDS_START: the first passed fd. */
    public static final int FIRST_FD = 3;

    /** One passed socket; {@code name} is "unknown" when LISTEN_FDNAMES does not name it (as in sd_listen_fds). */
    public record Passed(int fd, String name) {
    }

    public static final SocketActivation NONE = new SocketActivation(List.of(), Optional.empty());

    /** The passed sockets in {@code env}, for the process {@code pid}. */
    public static SocketActivation read(Map<String, String> env, long pid) {
        String fds = env.get("LISTEN_FDS");
        String listenPid = env.get("LISTEN_PID");
        if (fds == null) {
            return NONE;
        }
        if (listenPid == null || !listenPid.equals(Long.toString(pid))) {
            // A parent that did not unset them after its own activation: the sockets are not ours to take.
            String forPid = listenPid == null ? "(LISTEN_PID unset)" : listenPid;
            return ignoring("LISTEN_FDS=" + fds + " is for pid " + forPid + ", not this master (pid " + pid
                    + "): the passed sockets are ignored");
        }
        int count;
        try {
            count = Integer.parseInt(fds);
        } catch (NumberFormatException e) {
            count = -1;
        }
        if (count < 0) {
            return ignoring("LISTEN_FDS=" + fds + " is not a count of sockets: the passed sockets are ignored");
        }
        return new SocketActivation(passed(count, env.get("LISTEN_FDNAMES")), Optional.empty());
    }

    private static List<Passed> passed(int count, String names) {
        String[] given = names == null || names.isEmpty() ? new String[0] : names.split(":", -1);
        List<Passed> sockets = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            sockets.add(new Passed(FIRST_FD + i, given.length == count ? given[i] : "unknown"));
        }
        return List.copyOf(sockets);
    }

    private static SocketActivation ignoring(String why) {
        return new SocketActivation(List.of(), Optional.of(why));
    }

    /** The passed sockets named {@code name}: a socket unit's ListenStream= lines all share its name. */
    public List<Passed> named(String name) {
        return sockets.stream().filter(p -> p.name().equals(name)).toList();
    }

    /** How the passed sockets read in a message: "fd 3 (http), fd 4 (unknown)", or "none". */
    public String describe() {
        return sockets.isEmpty() ? "none (LISTEN_FDS is not set for this master)" : String.join(", ",
                sockets.stream().map(p -> "fd " + p.fd() + " (" + p.name() + ")").toList());
    }
}
