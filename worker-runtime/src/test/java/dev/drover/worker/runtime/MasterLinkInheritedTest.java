package dev.drover.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drover.link.LinkMessage;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A foreign worker's attach, against a stand-in master on a real Unix socket: what the master reads and when. */
class MasterLinkInheritedTest {

    @TempDir
    Path dir;

    @Test
    @Timeout(30)
    void theHelloSaysTheSocketIsInheritedAndTheMastersCloseIsHeard() throws Exception {
        Path socket = dir.resolve("link.sock");
        WorkerEnv env = new WorkerEnv(2, 1, "s3cret", socket, List.of("tcp"), "app.jar", null, 4242, 0, null,
                new Warmup.Plan(0, List.of("GET /"), 10_000), 0, HttpLimits.DEFAULTS, false, false,
                List.of());
        CountDownLatch gone = new CountDownLatch(1);
        CountDownLatch drained = new CountDownLatch(1);
        MasterLink.Listener listener = new MasterLink.Listener() {
            @Override
            public void onDrain(LinkMessage message) {
                drained.countDown();
            }

            @Override
            public void onSnapshot(LinkMessage message) {
            }

            @Override
            public void onCeiling(LinkMessage message) {
            }

            @Override
            public void onMasterGone() {
                gone.countDown();
            }

            @Override
            public void onPromote(LinkMessage message) {
            }
        };
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, ForeignWorker.daemonThreads("test-link"),
                NioIoHandler.newFactory());
        try (ServerSocketChannel master = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            master.bind(UnixDomainSocketAddress.of(socket));
            new MasterLink(loop, listener).attachInherited(env);
            try (SocketChannel worker = master.accept()) {
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(worker),
                        StandardCharsets.UTF_8));
                assertEquals("HELLO id=2 secret=s3cret inherited=1", in.readLine());
                worker.write(StandardCharsets.UTF_8.encode("DRAIN reason=reload\n"));
                assertTrue(drained.await(10, TimeUnit.SECONDS), "DRAIN not delivered");
            }
            assertTrue(gone.await(10, TimeUnit.SECONDS), "the master's close was not heard");
        } finally {
            loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        }
    }
}
