package dev.drover.worker.runtime;

import io.netty.util.internal.logging.AbstractInternalLogger;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logging that keeps logback off the boot's critical path. Starting SLF4J and logback costs about 100 ms of
 * CPU (a ServiceLoader scan of every jar, annotation proxies, time zones), and nothing a worker does before its app
 * starts needs to log, so it starts on a thread of its own beside the control link's attach and the config's
 * loading, and the app starts once it is up ({@link #start()}). Netty, though, asks for its loggers in the static initialisers
 * of its classes. So Netty gets {@link #install() a factory} whose loggers are created on the first message at INFO or above, and the runtime's
 * classes use {@link Log}, which does the same. Workers log at INFO (dev.drover.logging.DroverLogConfigurator), so
 * Netty's TRACE and DEBUG are off here by construction: they are answered without touching logback.
 */
final class LazyLogging {

    private LazyLogging() {
    }

    /**
     * Starts SLF4J and logback now, on the calling thread, and returns when they are ready. The worker calls it before
     * it accepts a connection: while SLF4J starts, it
     * hands other threads stand-in loggers, and a message logged through one of those in that moment could be lost
     * (seen here: an app's ERROR on an event loop, while the main thread's first INFO line was starting logback, never
     * reached the log). Once started, every logger is a real one.
     */
    static void start() {
        LoggerFactory.getILoggerFactory();
    }

    /**
     * {@link #start()} in a native worker, where Drover's logback is SLF4J's provider: named, SLF4J takes it without
     * a ServiceLoader scan of every jar on the class path. Not in a foreign worker: the property is the JVM's, and the
     * app's own SLF4J would read it too. An operator's own -Dslf4j.provider wins.
     */
    static void startLogback() {
        if (System.getProperty(SLF4J_PROVIDER) != null) {
            start();
            return;
        }
        // SLF4J reports a named provider at INFO on stderr, a line in the master's log for every worker: WARN is
        // enough (its warnings and errors still show). Both are read once, here, and taken back afterwards.
        boolean quiet = System.getProperty(SLF4J_VERBOSITY) == null;
        System.setProperty(SLF4J_PROVIDER, LOGBACK_PROVIDER);
        if (quiet) {
            System.setProperty(SLF4J_VERBOSITY, "WARN");
        }
        try {
            start();
        } finally {
            System.clearProperty(SLF4J_PROVIDER);
            if (quiet) {
                System.clearProperty(SLF4J_VERBOSITY);
            }
        }
    }

    private static final String SLF4J_PROVIDER = "slf4j.provider";
    private static final String SLF4J_VERBOSITY = "slf4j.internal.verbosity";
    private static final String LOGBACK_PROVIDER = "ch.qos.logback.classic.spi.LogbackServiceProvider";

    /** Netty's epoll class whose static initialiser binds (or else extracts and loads) Netty's native library. */
    static final String NETTY_EPOLL_NATIVE = "io.netty.channel.epoll.Native";

    /** Runs once, inside {@link #NETTY_EPOLL_NATIVE}'s static initialiser; see {@link #beforeNettyNative}. */
    private static volatile Runnable beforeNettyNative;

    /** Makes Netty's loggers lazy. Call before any Netty class is loaded. */
    static void install() {
        InternalLoggerFactory.setDefaultFactory(new InternalLoggerFactory() {
            @Override
            protected InternalLogger newInstance(String name) {
                if (NETTY_EPOLL_NATIVE.equals(name)) {
                    Runnable hook = beforeNettyNative;
                    beforeNettyNative = null;
                    if (hook != null) {
                        hook.run();
                    }
                }
                return new NettyLogger(name);
            }
        });
    }

    /**
     * Runs {@code hook} on the thread that initialises Netty's epoll Native class, at its first statement (it asks
     * for its logger), before it checks whether its native methods are bound. A library loaded there binds them
     * while that initialisation is under way, so Netty takes it as loaded. A library loaded before it cannot be: its
     * JNI_OnLoad itself initialises Native, before the methods are bound, and Native then extracts and loads a
     * private copy of its own (seen here: every worker did, 40-60 ms of its boot).
     */
    static void beforeNettyNative(Runnable hook) {
        beforeNettyNative = hook;
    }

    /** A runtime class's logger: the SLF4J one, looked up at the first message. */
    static final class Log {
        private final String name;
        private volatile Logger delegate;

        private Log(String name) {
            this.name = name;
        }

        static Log of(Class<?> owner) {
            return new Log(owner.getName());
        }

        Logger logger() {
            Logger logger = delegate;
            if (logger == null) {
                logger = LoggerFactory.getLogger(name);
                delegate = logger;
            }
            return logger;
        }

        /** Workers log at INFO, so this is usually a no-op; it still starts logback the first time. */
        void debug(String format, Object... args) {
            Logger logger = logger();
            if (logger.isDebugEnabled()) {
                logger.debug(format, args);
            }
        }

        void info(String format, Object... args) {
            logger().info(format, args);
        }

        void warn(String format, Object... args) {
            logger().warn(format, args);
        }

        void error(String format, Object... args) {
            logger().error(format, args);
        }
    }

    /** Netty's logger: TRACE and DEBUG off; INFO, WARN and ERROR go to SLF4J, looked up at the first of them. */
    private static final class NettyLogger extends AbstractInternalLogger {
        private static final long serialVersionUID = 1L;
        private final transient Log log;

        NettyLogger(String name) {
            super(name);
            this.log = new Log(name);
        }

        private Logger to() {
            return log.logger();
        }

        @Override public boolean isTraceEnabled() { return false; }
        @Override public void trace(String msg) { }
        @Override public void trace(String format, Object arg) { }
        @Override public void trace(String format, Object argA, Object argB) { }
        @Override public void trace(String format, Object... arguments) { }
        @Override public void trace(String msg, Throwable t) { }

        @Override public boolean isDebugEnabled() { return false; }
        @Override public void debug(String msg) { }
        @Override public void debug(String format, Object arg) { }
        @Override public void debug(String format, Object argA, Object argB) { }
        @Override public void debug(String format, Object... arguments) { }
        @Override public void debug(String msg, Throwable t) { }

        @Override public boolean isInfoEnabled() { return to().isInfoEnabled(); }
        @Override public void info(String msg) { to().info(msg); }
        @Override public void info(String format, Object arg) { to().info(format, arg); }
        @Override public void info(String format, Object argA, Object argB) { to().info(format, argA, argB); }
        @Override public void info(String format, Object... arguments) { to().info(format, arguments); }
        @Override public void info(String msg, Throwable t) { to().info(msg, t); }

        @Override public boolean isWarnEnabled() { return to().isWarnEnabled(); }
        @Override public void warn(String msg) { to().warn(msg); }
        @Override public void warn(String format, Object arg) { to().warn(format, arg); }
        @Override public void warn(String format, Object argA, Object argB) { to().warn(format, argA, argB); }
        @Override public void warn(String format, Object... arguments) { to().warn(format, arguments); }
        @Override public void warn(String msg, Throwable t) { to().warn(msg, t); }

        @Override public boolean isErrorEnabled() { return to().isErrorEnabled(); }
        @Override public void error(String msg) { to().error(msg); }
        @Override public void error(String format, Object arg) { to().error(format, arg); }
        @Override public void error(String format, Object argA, Object argB) { to().error(format, argA, argB); }
        @Override public void error(String format, Object... arguments) { to().error(format, arguments); }
        @Override public void error(String msg, Throwable t) { to().error(msg, t); }
    }
}
