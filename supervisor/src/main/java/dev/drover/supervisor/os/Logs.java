package dev.drover.supervisor.os;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.encoder.Encoder;
import dev.drover.logging.DroverLogConfigurator;
import java.io.FileNotFoundException;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * The master's log destination: stdout (dev.drover.logging.DroverLogConfigurator) or a file (drover.log-file), and
 * reopening that file after logrotate moved it (USR1, `drover ctl reopen-logs`). Workers write into the master's log
 * through their output pipes, so reopening the master's file covers them too. A file that cannot be opened is
 * refused with the OS's reason before logback sees it: logback itself would only record the failure in its status
 * list and go on with no log at all, and it creates missing parent directories on its own.
 */
public final class Logs {

    /** A log file that could not be opened; the message is the OS's reason, e.g. "Permission denied". */
    public static final class Unusable extends IOException {
        Unusable(String reason) {
            super(reason);
        }
    }

    private Logs() {
    }

    /** Sends every log line to {@code file} (appending) instead of stdout; refuses a file it cannot append to. */
    public static void toFile(Path file) throws Unusable {
        checkAppendable(file);
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Encoder<ILoggingEvent> encoder = DroverLogConfigurator.masterEncoder(context);
        encoder.start();
        FileAppender<ILoggingEvent> appender = new FileAppender<>();
        appender.setContext(context);
        appender.setName("FILE");
        appender.setFile(file.toString());
        appender.setAppend(true);
        appender.setEncoder(encoder);
        appender.start();
        if (!appender.isStarted()) {
            throw new Unusable("logback could not open it");
        }
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.detachAndStopAllAppenders();
        root.addAppender(appender);
    }

    /**
     * Opens every log file again at its path; returns how many were reopened. A file that cannot be opened (its
     * directory gone or unwritable) is not switched to: logging goes on into the file that was open, and the
     * exception names each path with the OS's reason.
     */
    public static int reopen() throws Unusable {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        int reopened = 0;
        List<String> failures = new ArrayList<>();
        for (Iterator<Appender<ILoggingEvent>> it =
                context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).iteratorForAppenders(); it.hasNext(); ) {
            if (it.next() instanceof FileAppender<?> file) {
                try {
                    checkAppendable(Path.of(file.getFile()));
                    file.openFile(file.getFile()); // swaps the stream under the appender's lock: no line is lost
                    reopened++;
                } catch (IOException e) {
                    failures.add(file.getFile() + ": " + e.getMessage());
                }
            }
        }
        if (!failures.isEmpty()) {
            throw new Unusable(String.join("; ", failures));
        }
        return reopened;
    }

    /** Opens {@code file} for appending (creating it) and closes it again; the exception carries the OS's reason. */
    static void checkAppendable(Path file) throws Unusable {
        try (FileOutputStream probe = new FileOutputStream(file.toFile(), true)) {
            // opened: that is all this wanted to know
        } catch (FileNotFoundException e) {
            throw new Unusable(reason(e.getMessage(), file));
        } catch (IOException e) {
            throw new Unusable(e.getMessage());
        }
    }

    /** FileOutputStream says "PATH (REASON)"; the reason alone, as strerror gives it. */
    private static String reason(String message, Path file) {
        String prefix = file + " (";
        return message != null && message.startsWith(prefix) && message.endsWith(")")
                ? message.substring(prefix.length(), message.length() - 1) : String.valueOf(message);
    }
}
