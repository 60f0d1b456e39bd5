package dev.drover.worker.runtime;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Layout;
import ch.qos.logback.core.LayoutBase;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import dev.drover.link.ExitCodes;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * The entry point of a foreign worker's link side, called by Drover's agent (dev.drover.agent) in the app's JVM from
 * a class loader of its own, over the worker runtime's jars, whose parent is the platform loader: none of Drover's
 * classes (Netty, SLF4J, logback, Typesafe Config) is visible to the app, nor the app's to Drover. See
 * {@link ForeignWorker} for what it does.
 */
public final class ForeignMain {

    private ForeignMain() {
    }

    /** Starts the link side on a daemon thread of its own and returns at once. */
    public static void start() {
        Thread thread = new Thread(ForeignMain::run, "drover-link-side");
        thread.setDaemon(true);
        // ServiceLoader and resource look-ups that go by the context class loader (SLF4J's provider, logback's
        // configurator, Netty's) must see Drover's jars, not the app's; threads made from here inherit it.
        thread.setContextClassLoader(ForeignMain.class.getClassLoader());
        thread.start();
    }

    private static void run() {
        try {
            startLogging();
            WorkerEnv env;
            try {
                env = WorkerEnv.foreignFromEnvironment(Map.copyOf(System.getenv()));
            } catch (RuntimeException e) {
                System.err.println("drover worker: " + e.getMessage());
                System.exit(ExitCodes.USAGE);
                return;
            }
            System.exit(new ForeignWorker(env).run());
        } catch (Throwable e) {
            // Without its link side the worker would serve unsupervised: end it, and say why.
            System.err.println("drover worker: the link side failed: " + e);
            e.printStackTrace();
            System.exit(ExitCodes.INTERNAL_ERROR);
        }
    }

    /**
     * Drover's own SLF4J and logback, in this loader, set up by dev.drover.logging.DroverLogConfigurator (the master
     * starts every worker with -Ddrover.logging=worker) and writing to the app's System.out; the app's logging is
     * untouched. Started here, before any other thread of the link side can log.
     */
    private static void startLogging() {
        LazyLogging.install();
        LazyLogging.start();
        tagLines();
    }

    /** What {@link #tagLines} puts after the level of each of Drover's lines. */
    static final String TAG = "[drover] ";

    /**
     * Drover's lines share stdout with the app's own log, and the master relays both: each of Drover's gets
     * {@value #TAG} after its level ({@code INFO  [drover] ForeignWorker - ...}), which stays first, where the master
     * reads it. Here, not in LazyLogging: a native worker need not load logback's classes for it. Does nothing
     * unless the worker's layout (DroverLogConfigurator's STDOUT appender) is in place.
     */
    private static void tagLines() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)
                || !(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDOUT")
                        instanceof OutputStreamAppender<ILoggingEvent> console)
                || !(console.getEncoder() instanceof LayoutWrappingEncoder<ILoggingEvent> encoder)) {
            return;
        }
        Layout<ILoggingEvent> plain = encoder.getLayout();
        LayoutBase<ILoggingEvent> tagged = new LayoutBase<>() {
            @Override
            public String doLayout(ILoggingEvent event) {
                return tag(plain.doLayout(event));
            }
        };
        tagged.setContext(context);
        tagged.start();
        encoder.setLayout(tagged);
    }

    /** A worker's line, {@code LEVEL Logger - message} with the level padded to five, with the tag after the level. */
    static String tag(String line) {
        int afterLevel = 6;
        return line.length() < afterLevel ? line : line.substring(0, afterLevel) + TAG + line.substring(afterLevel);
    }
}
