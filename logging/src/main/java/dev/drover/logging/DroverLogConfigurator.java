package dev.drover.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;

/**
 * Drover's own logging set-up, in code rather than XML: Joran's XML parsing was the largest single cost between a
 * worker's main() and READY (about 200 ms of 500). Logback finds this class through ServiceLoader; it acts only
 * in a JVM Drover started, where the {@value #PROPERTY} system property says which role it plays, and otherwise
 * lets logback configure itself as usual (logback.xml and friends).
 * <ul>
 * <li>{@code worker}: plain lines on stdout ({@code LEVEL Logger - message}). The master reads them and logs each
 * with its own timestamp and the worker's id, pid and generation, so nothing here repeats those.</li>
 * <li>{@code master}: {@code yyyy-MM-dd HH:mm:ss.SSS LEVEL [Logger] message} on stdout; Netty only from WARN.</li>
 * </ul>
 * Neither uses logback's pattern parser: each layout is a few string appends.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class DroverLogConfigurator extends ContextAwareBase implements Configurator {

    /** The system property naming the JVM's role: {@code worker} or {@code master}. */
    public static final String PROPERTY = "drover.logging";
    /** The master's line layout; also used when its log goes to a file. */
    public static final String MASTER_PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%logger{0}] %msg%n";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        String role = System.getProperty(PROPERTY, "");
        Encoder<ILoggingEvent> encoder;
        switch (role) {
            case "worker":
                encoder = encoder(context, new PlainLayout());
                break;
            case "master":
                encoder = masterEncoder(context);
                context.getLogger("io.netty").setLevel(Level.WARN);
                break;
            default:
                return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        encoder.setContext(context);
        encoder.start();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("STDOUT");
        console.setEncoder(encoder);
        console.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(console);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /**
     * The master's encoder ({@value #MASTER_PATTERN}), for stdout and for drover.log-file. Written by hand, like
     * the worker's: logback's pattern parser and converters are some 200 classes the master would keep loaded.
     */
    public static Encoder<ILoggingEvent> masterEncoder(LoggerContext context) {
        return encoder(context, new MasterLayout());
    }

    private static Encoder<ILoggingEvent> encoder(LoggerContext context, LayoutBase<ILoggingEvent> layout) {
        layout.setContext(context);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setLayout(layout);
        encoder.setContext(context);
        return encoder;
    }

    /** {@code LEVEL Logger - message}, then the stack trace if any. */
    static final class PlainLayout extends LayoutBase<ILoggingEvent> {
        @Override
        public String doLayout(ILoggingEvent event) {
            StringBuilder line = new StringBuilder(128);
            level(line, event).append(' ');
            return rest(line, event, false);
        }
    }

    /** {@code yyyy-MM-dd HH:mm:ss.SSS LEVEL [Logger] message}, in the local time zone, then the stack trace if any. */
    static final class MasterLayout extends LayoutBase<ILoggingEvent> {
        @Override
        public String doLayout(ILoggingEvent event) {
            LocalDateTime t = LocalDateTime.ofInstant(Instant.ofEpochMilli(event.getTimeStamp()), ZoneId.systemDefault());
            StringBuilder line = new StringBuilder(160);
            pad(line, t.getYear(), 4).append('-');
            pad(line, t.getMonthValue(), 2).append('-');
            pad(line, t.getDayOfMonth(), 2).append(' ');
            pad(line, t.getHour(), 2).append(':');
            pad(line, t.getMinute(), 2).append(':');
            pad(line, t.getSecond(), 2).append('.');
            pad(line, t.getNano() / 1_000_000, 3).append(' ');
            level(line, event).append(" [");
            return rest(line, event, true);
        }
    }

    private static StringBuilder pad(StringBuilder line, int value, int width) {
        String digits = Integer.toString(value);
        for (int i = digits.length(); i < width; i++) {
            line.append('0');
        }
        return line.append(digits);
    }

    private static StringBuilder level(StringBuilder line, ILoggingEvent event) {
        String level = event.getLevel().toString();
        line.append(level);
        for (int i = level.length(); i < 5; i++) {
            line.append(' ');
        }
        return line;
    }

    /** The logger's simple name ({@code [Name]} or {@code Name -}), the message, the stack trace if any. */
    private static String rest(StringBuilder line, ILoggingEvent event, boolean bracketed) {
        String name = event.getLoggerName();
        line.append(name, name.lastIndexOf('.') + 1, name.length()).append(bracketed ? "] " : " - ")
                .append(event.getFormattedMessage()).append(CoreConstants.LINE_SEPARATOR);
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) {
            line.append(ThrowableProxyUtil.asString(thrown)).append(CoreConstants.LINE_SEPARATOR);
        }
        return line.toString();
    }
}
