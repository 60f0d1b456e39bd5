package dev.drover.supervisor.os;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.FileAppender;
import dev.drover.logging.DroverLogConfigurator;
import java.nio.file.Path;
import java.util.Iterator;
import org.slf4j.LoggerFactory;

/**
 * The master's log destination: stdout (dev.drover.logging.DroverLogConfigurator) or a file (drover.log-file), and reopening that file after
 * logrotate moved it (USR1, `drover ctl reopen-logs`). Workers write into the master's log through their output
 * pipes, so reopening the master's file covers them too.
 */
public final class Logs {

    private Logs() {
    }

    /** Sends every log line to {@code file} (appending) instead of stdout. */
    public static void toFile(Path file) {
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
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.detachAndStopAllAppenders();
        root.addAppender(appender);
    }

    /** Closes and reopens every log file; returns how many were reopened. */
    public static int reopen() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        int reopened = 0;
        for (Iterator<Appender<ch.qos.logback.classic.spi.ILoggingEvent>> it =
                context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).iteratorForAppenders(); it.hasNext(); ) {
            if (it.next() instanceof FileAppender<?> file) {
                file.stop();
                file.start(); // opens the configured path again, creating it if logrotate moved it away
                reopened++;
            }
        }
        return reopened;
    }
}
