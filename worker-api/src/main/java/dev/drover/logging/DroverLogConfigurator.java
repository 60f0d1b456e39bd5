package dev.drover.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
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

/**
 * Drover's own logging set-up, in code rather than XML: Joran's XML parsing was the largest single cost between a
 * worker's main() and READY (about 200 ms of 500). Logback finds this class through ServiceLoader; it acts only
 * in a JVM Drover started, where the {@value #PROPERTY} system property says which role it plays, and otherwise
 * lets logback configure itself as usual (logback.xml and friends).
 * <ul>
 * <li>{@code worker}: plain lines on stdout ({@code LEVEL Logger - message}). The master reads them and logs each
 * with its own timestamp and the worker's id, pid and generation, so nothing here repeats those. No pattern
 * parser: the layout is a few string appends.</li>
 * <li>{@code master}: {@code yyyy-MM-dd HH:mm:ss.SSS LEVEL [Logger] message} on stdout; Netty only from WARN.</li>
 * </ul>
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
                LayoutWrappingEncoder<ILoggingEvent> plain = new LayoutWrappingEncoder<>();
                PlainLayout layout = new PlainLayout();
                layout.setContext(context);
                layout.start();
                plain.setLayout(layout);
                encoder = plain;
                break;
            case "master":
                PatternLayoutEncoder pattern = new PatternLayoutEncoder();
                pattern.setPattern(MASTER_PATTERN);
                encoder = pattern;
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

    /** {@code LEVEL Logger - message}, then the stack trace if any: what the worker's XML pattern used to print. */
    static final class PlainLayout extends LayoutBase<ILoggingEvent> {
        @Override
        public String doLayout(ILoggingEvent event) {
            String name = event.getLoggerName();
            StringBuilder line = new StringBuilder(128)
                    .append(event.getLevel().toString());
            for (int pad = event.getLevel().toString().length(); pad < 5; pad++) {
                line.append(' ');
            }
            line.append(' ').append(name, name.lastIndexOf('.') + 1, name.length())
                    .append(" - ").append(event.getFormattedMessage()).append(CoreConstants.LINE_SEPARATOR);
            IThrowableProxy thrown = event.getThrowableProxy();
            if (thrown != null) {
                line.append(ThrowableProxyUtil.asString(thrown)).append(CoreConstants.LINE_SEPARATOR);
            }
            return line.toString();
        }
    }
}
