package dev.drover.supervisor.os;

import dev.drover.supervisor.config.ConfigError;
import dev.drover.supervisor.config.RunAs;
import dev.drover.supervisor.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import jnr.posix.Group;
import jnr.posix.Passwd;

/**
 * The uid, gid and supplementary groups the workers run as (drover.user, drover.group), resolved once at start, and
 * the setpriv command line that makes a child take them for good. Resolved through the C library (getpwnam,
 * getgrnam, getgrouplist), so NSS sources (LDAP, sssd, systemd's dynamic users) count as they do for login.
 */
public record Credentials(String user, long uid, long gid, long[] groups, String home) {

    /** util-linux's setpriv: the switch is made by a small C program between the shell and the JVM's exec. */
    static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    /** The workers' credentials, or empty when they run as the master's user; a problem is a ConfigError. */
    public static Optional<Credentials> resolve(Settings settings) throws ConfigError {
        RunAs runAs = settings.runAs();
        if (runAs.user().isEmpty()) {
            return Optional.empty();
        }
        String name = runAs.user().get();
        if (Posix.euid() != 0) {
            throw refused(settings, "user", name, "the master runs as uid " + Posix.euid() + ", and only root can "
                    + "start processes as another user", "a master started as root, or no drover.user");
        }
        if (!Files.isExecutable(SETPRIV)) {
            throw refused(settings, "user", name, SETPRIV + " is missing", "util-linux's setpriv installed "
                    + "(Debian and Ubuntu: package util-linux; Alpine: setpriv)");
        }
        Passwd passwd = Posix.posix().getpwnam(name);
        if (passwd == null) {
            throw refused(settings, "user", name, "no such user on this host", "a user name from /etc/passwd (or "
                    + "NSS): `getent passwd NAME` finds it");
        }
        long gid = runAs.group().isPresent() ? groupId(settings, runAs.group().get()) : passwd.getGID();
        return Optional.of(new Credentials(name, passwd.getUID(), gid, groupsOf(name, gid), passwd.getHome()));
    }

    private static long groupId(Settings settings, String name) throws ConfigError {
        Group group = Posix.posix().getgrnam(name);
        if (group == null) {
            throw refused(settings, "group", name, "no such group on this host", "a group name from /etc/group (or "
                    + "NSS): `getent group NAME` finds it");
        }
        return group.getGID();
    }

    /**
     * The user's groups as initgroups(3) would set them at login, {@code gid} included. Resolved here, once, rather
     * than by setpriv's --init-groups at every spawn: a worker then never waits on a slow directory service, and
     * every worker of a run has the same groups.
     */
    static long[] groupsOf(String user, long gid) {
        int[] count = {64};
        while (true) {
            int[] groups = new int[count[0]];
            if (LibC.calls().getgrouplist(user, (int) gid, groups, count) >= 0) {
                return Arrays.stream(groups, 0, count[0]).mapToLong(Integer::toUnsignedLong).sorted().distinct()
                        .toArray();
            }
            count[0] = Math.max(count[0], groups.length * 2);
        }
    }

    /**
     * setpriv switching to these credentials, then running what follows: the gid and groups before the uid (the
     * order setpriv always uses, as it must: after setuid a process can no longer change them), no capabilities in
     * any set, and no_new_privs so that no setuid binary the app runs can give root back.
     */
    public List<String> setpriv() {
        return List.of(SETPRIV.toString(), "--reuid=" + uid, "--regid=" + gid,
                "--groups=" + Arrays.stream(groups).mapToObj(Long::toString).collect(Collectors.joining(",")),
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--");
    }

    /** How the log names them: {@code www-data (uid 33, gid 33, groups 33)}. */
    public String display() {
        return user + " (uid " + uid + ", gid " + gid + ", groups "
                + Arrays.stream(groups).mapToObj(Long::toString).collect(Collectors.joining(",")) + ")";
    }

    private static ConfigError refused(Settings settings, String key, String value, String problem, String expected) {
        return ConfigError.of("drover." + key, "\"" + value + "\"", settings.origin(key), problem, expected);
    }
}
