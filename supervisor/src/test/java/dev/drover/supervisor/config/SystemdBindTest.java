package dev.drover.supervisor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** drover.bind and the sockets systemd passed (LISTEN_FDS): by name, by default, and refused names. */
class SystemdBindTest {

    private static final ConfigSources.Flag APP = new ConfigSources.Flag("drover.app", "dev.example.App",
            "argument APP");
    private static final String OUR_PID = Long.toString(ProcessHandle.current().pid());
    private static final Map<String, String> TWO_PASSED = Map.of("LISTEN_FDS", "2", "LISTEN_PID", OUR_PID,
            "LISTEN_FDNAMES", "http:admin");

    private static Settings load(Map<String, String> env, ConfigSources.Flag... flags) throws ConfigError {
        List<ConfigSources.Flag> all = new java.util.ArrayList<>(List.of(flags));
        all.add(APP);
        return ConfigLoader.load(new ConfigSources(Optional.empty(), env, all));
    }

    private static ConfigSources.Flag bind(String... addresses) {
        return new ConfigSources.Flag("drover.bind", List.of(addresses), "flag -b/--bind");
    }

    @Test
    void anUnsetBindTakesEveryPassedSocket() throws Exception {
        Settings s = load(TWO_PASSED);
        assertEquals(List.of(new BindAddress.Fd(3), new BindAddress.Fd(4)), s.bind());
        assertEquals("LISTEN_FDS (the sockets systemd passed; drover.bind is not set)", s.origin("bind"));
    }

    @Test
    void systemdNameBindsThePassedSocketOfThatNameBesideOtherAddresses() throws Exception {
        assertEquals(List.of(new BindAddress.Fd(4), new BindAddress.Tcp("127.0.0.1", 9000)),
                load(TWO_PASSED, bind("systemd:admin", "127.0.0.1:9000")).bind());
    }

    @Test
    void anUnknownNameIsRefusedWithThePassedNames() {
        String message = assertThrows(ConfigError.class, () -> load(TWO_PASSED, bind("systemd:web"))).getMessage();
        assertTrue(message.contains("drover.bind = [\"systemd:web\"] (command-line flag -b/--bind): systemd passed no "
                + "socket named \"web\" (passed: fd 3 (http), fd 4 (admin))"), message);
    }

    @Test
    void socketsPassedToAnotherPidAreNotOurs() throws Exception {
        Map<String, String> env = Map.of("LISTEN_FDS", "1", "LISTEN_PID", "1", "LISTEN_FDNAMES", "http");
        assertEquals(List.of(new BindAddress.Tcp("127.0.0.1", 8000)), load(env).bind());
        String message = assertThrows(ConfigError.class, () -> load(env, bind("systemd:http"))).getMessage();
        assertTrue(message.contains("LISTEN_FDS=1 is for pid 1, not this master (pid " + OUR_PID + ")"), message);
    }
}
