package dev.drover.supervisor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class BindAddressTest {

    @Test
    void parsesEveryForm() {
        assertEquals(new BindAddress.Tcp("127.0.0.1", 8080), BindAddress.parse("127.0.0.1:8080"));
        assertEquals(new BindAddress.Tcp("0.0.0.0", 8000), BindAddress.parse("0.0.0.0"));
        assertEquals(new BindAddress.Tcp("localhost", 0), BindAddress.parse("localhost:0"));
        assertEquals(new BindAddress.Tcp("::1", 9000), BindAddress.parse("[::1]:9000"));
        assertEquals(new BindAddress.Tcp("::", 8000), BindAddress.parse("[::]"));
        assertEquals(new BindAddress.Unix(Path.of("/run/app.sock")), BindAddress.parse("unix:/run/app.sock"));
        assertEquals(new BindAddress.Fd(3), BindAddress.parse("fd://3"));
    }

    @Test
    void printsTheWayItWasWritten() {
        assertEquals("[::1]:9000", BindAddress.parse("[::1]:9000").toString());
        assertEquals("unix:/run/app.sock", BindAddress.parse("unix:/run/app.sock").toString());
    }

    @Test
    void refusesMalformedAddresses() {
        for (String bad : new String[] {"", "host:", "host:99999", "host:port", "unix:", "fd://", "fd://-1", "fd://x",
            "[::1:80", "http://x:80", "a b:80"}) {
            assertNull(BindAddress.parse(bad), bad);
        }
    }
}
