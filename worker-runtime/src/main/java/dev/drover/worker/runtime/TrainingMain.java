package dev.drover.worker.runtime;

import dev.drover.link.ExitCodes;
import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The training run behind the master's AppCDS archive: a JVM started with {@code -XX:ArchiveClassesAtExit} that
 * loads what a worker loads (the runtime, Netty, the app), serves a few requests to itself on a private port and
 * exits, so the JVM writes the classes it loaded into the archive. Usage: {@code TrainingMain APP_CLASS [CONFIG]}.
 * The app's start() runs once here, as in every worker.
 */
public final class TrainingMain {

    /** Requests sent to itself: enough to load the whole request path, not to warm the JIT. */
    static final int REQUESTS = 20;
    /** Classes of a worker that serving alone does not load (the control link's side). */
    static final String[] WORKER_CLASSES = {"dev.drover.worker.runtime.WorkerMain", "dev.drover.worker.runtime.Worker",
        "dev.drover.worker.runtime.MasterLink", "dev.drover.worker.runtime.WorkerLifecycle", "dev.drover.worker.runtime.NativeServing",
        "dev.drover.worker.runtime.MasterLink$Inbound", "dev.drover.worker.runtime.WorkerEnv",
        "dev.drover.worker.runtime.LoopHeartbeats", "dev.drover.worker.runtime.OwnerLoop",
        "dev.drover.link.LinkCodec", "dev.drover.link.LinkMessage",
        "dev.drover.link.LinkMessage$Builder", "io.netty.channel.epoll.EpollDomainSocketChannel",
        "io.netty.channel.unix.DomainSocketAddress", "io.netty.channel.unix.FileDescriptor",
        "io.netty.handler.codec.LineBasedFrameDecoder", "io.netty.bootstrap.Bootstrap"};

    private static final LazyLogging.Log log = LazyLogging.Log.of(TrainingMain.class);

    private TrainingMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: TrainingMain APP_CLASS [CONFIG_FILE]");
            System.exit(ExitCodes.USAGE);
        }
        LazyLogging.install(); // as in a worker
        for (String name : WORKER_CLASSES) {
            Class.forName(name, false, TrainingMain.class.getClassLoader());
        }
        InetSocketAddress bound = StandaloneMain.serve(new InetSocketAddress("127.0.0.1", 0), args[0],
                args.length > 1 ? new File(args[1]) : null);
        for (int i = 0; i < REQUESTS; i++) {
            get(bound);
        }
        // What every worker does before or just after READY, whose classes would otherwise be parsed and verified
        // in each worker: logback's start and one line through it (~100 ms of a boot when not archived), the
        // HTTP primer, and the memory reading of the first STATS (the JDK's management classes).
        LazyLogging.startLogback();
        HttpPrimer.prime(HttpLimits.DEFAULTS);
        log.info("training run: {} requests served, memory {}", REQUESTS, new MemoryReadings().read());
        System.exit(ExitCodes.OK); // the JVM writes the archive at exit
    }

    private static void get(InetSocketAddress address) throws Exception {
        try (Socket socket = new Socket(address.getAddress(), address.getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            in.readAllBytes(); // whatever the app answers to GET /: the codec and pipeline are loaded either way
        }
    }
}
