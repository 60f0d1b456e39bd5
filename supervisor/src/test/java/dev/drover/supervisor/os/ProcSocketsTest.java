package dev.drover.supervisor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class ProcSocketsTest {

    @Test
    void decodesTheKernelsAddresses() {
        assertEquals("127.0.0.1:8080", ProcSockets.address("0100007F:1F90"));
        assertEquals("0.0.0.0:22", ProcSockets.address("00000000:0016"));
        assertEquals("[::]:8081", ProcSockets.address("00000000000000000000000000000000:1F91"));
        assertEquals("[0:0:0:0:0:0:0:1]:443", ProcSockets.address("00000000000000000000000001000000:01BB"));
        assertEquals("127.0.0.1:80", ProcSockets.address("0000000000000000FFFF00000100007F:0050"));
    }

    /** This JVM is the process under test: a listener it opens is found, and one named as shared is not. */
    @Test
    void findsAListenerOfTheProcessUnlessItIsShared() throws Exception {
        long self = ProcessHandle.current().pid();
        Set<Integer> before = socketFds();
        try (ServerSocketChannel shared = ServerSocketChannel.open();
             ServerSocketChannel mine = open(before)) {
            mine.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            shared.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int minePort = ((InetSocketAddress) mine.getLocalAddress()).getPort();
            int sharedPort = ((InetSocketAddress) shared.getLocalAddress()).getPort();
            long sharedInode = ProcSockets.ownInode(sharedFd);
            assertTrue(sharedInode > 0, "the shared listener's inode is read from /proc/self/fd");
            List<String> found = ProcSockets.listeningBesides(self, Set.of(sharedInode));
            assertTrue(found.contains("127.0.0.1:" + minePort), found.toString());
            assertTrue(found.stream().noneMatch(a -> a.endsWith(":" + sharedPort)), found.toString());
        }
    }

    @Test
    void aProcessThatIsGoneHasNone() {
        assertEquals(List.of(), ProcSockets.listeningBesides(Long.MAX_VALUE, Set.of()));
    }

    private int sharedFd;

    /** Notes the fd the first channel got (the socket fd that was not there before), then opens the second. */
    private ServerSocketChannel open(Set<Integer> before) throws Exception {
        Set<Integer> now = socketFds();
        now.removeAll(before);
        assertEquals(1, now.size(), "one new socket fd: " + now);
        sharedFd = now.iterator().next();
        return ServerSocketChannel.open();
    }

    private static Set<Integer> socketFds() throws Exception {
        Set<Integer> fds = new java.util.HashSet<>();
        try (var dir = java.nio.file.Files.newDirectoryStream(java.nio.file.Path.of("/proc/self/fd"))) {
            for (var fd : dir) {
                if (ProcSockets.ownInode(Integer.parseInt(fd.getFileName().toString())) > 0) {
                    fds.add(Integer.parseInt(fd.getFileName().toString()));
                }
            }
        }
        return fds;
    }
}
