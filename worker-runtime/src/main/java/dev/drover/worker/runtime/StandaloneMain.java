package dev.drover.worker.runtime;

import com.typesafe.config.ConfigFactory;
import dev.drover.link.ExitCodes;
import dev.drover.worker.api.DroverApp;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.File;
import java.net.InetSocketAddress;

/**
 * Runs an app in one plain JVM bound directly to its port, with the same pipeline as a worker but no master:
 * the baseline the benchmarks compare Drover against, and a quick way to try an app.
 * Usage: {@code StandaloneMain HOST:PORT APP_CLASS [CONFIG_FILE]}.
 */
public final class StandaloneMain {

    private StandaloneMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: StandaloneMain HOST:PORT APP_CLASS [CONFIG_FILE]");
            System.exit(ExitCodes.USAGE);
        }
        LazyLogging.install(); // as in a worker
        int colon = args[0].lastIndexOf(':');
        InetSocketAddress address = new InetSocketAddress(args[0].substring(0, colon),
                Integer.parseInt(args[0].substring(colon + 1)));
        serve(address, args[1], args.length > 2 ? new File(args[2]) : null);
        System.out.println("standalone: " + args[1] + " listening on " + address);
        Thread.currentThread().join();
    }

    /** Loads and starts the app and serves it on {@code address}; returns the bound address. */
    static InetSocketAddress serve(InetSocketAddress address, String appClass, File configFile) throws Exception {
        DroverApp app = (DroverApp) Class.forName(appClass).getConstructor().newInstance();
        var file = configFile != null ? ConfigFactory.parseFile(configFile) : ConfigFactory.empty();
        app.start(new RuntimeContext(0, 0, ProcessHandle.current().pid(),
                ConfigFactory.defaultOverrides().withFallback(file).withFallback(ConfigFactory.defaultReference())
                        .resolve()));
        EventLoopGroup loops =
                new MultiThreadIoEventLoopGroup(Runtime.getRuntime().availableProcessors(), EpollIoHandler.newFactory());
        HttpService http = new HttpService(loops, app, new ConnectionTracker(), HttpLimits.DEFAULTS);
        http.bind(address);
        return (InetSocketAddress) http.servers().get(0).localAddress();
    }
}
