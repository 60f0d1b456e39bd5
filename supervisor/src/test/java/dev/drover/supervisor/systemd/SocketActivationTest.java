package dev.drover.supervisor.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SocketActivationTest {

    @Test
    void namesFollowTheFdsFrom3AndDefaultToUnknownAsInSdListenFds() {
        assertEquals(List.of(new SocketActivation.Passed(3, "http"), new SocketActivation.Passed(4, "admin")),
                SocketActivation.read(Map.of("LISTEN_FDS", "2", "LISTEN_PID", "42", "LISTEN_FDNAMES", "http:admin"), 42)
                        .sockets());
        assertEquals(List.of(new SocketActivation.Passed(3, "unknown")),
                SocketActivation.read(Map.of("LISTEN_FDS", "1", "LISTEN_PID", "42"), 42).sockets());
    }

    @Test
    void anotherPidsOrAMalformedCountIsIgnoredAndSaysWhy() {
        SocketActivation other = SocketActivation.read(Map.of("LISTEN_FDS", "1", "LISTEN_PID", "7"), 42);
        assertTrue(other.sockets().isEmpty());
        assertEquals("LISTEN_FDS=1 is for pid 7, not this master (pid 42): the passed sockets are ignored",
                other.ignored().orElseThrow());
        assertTrue(SocketActivation.read(Map.of("LISTEN_FDS", "x", "LISTEN_PID", "42"), 42).ignored().isPresent());
        assertEquals(SocketActivation.NONE, SocketActivation.read(Map.of(), 42));
    }
}
