package dev.drover.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.LoggingEvent;
import org.junit.jupiter.api.Test;

class DroverLogConfiguratorTest {

    private static String line(Level level, String message, Throwable thrown) {
        LoggerContext context = new LoggerContext();
        LoggingEvent event = new LoggingEvent("fqcn", context.getLogger("dev.drover.worker.runtime.Worker"), level,
                message, thrown, new Object[] {7});
        return new DroverLogConfigurator.PlainLayout().doLayout(event);
    }

    @Test
    void workerLinesAreLevelLoggerMessage() {
        assertEquals("INFO  Worker - accepting on 7 socket(s)" + System.lineSeparator(),
                line(Level.INFO, "accepting on {} socket(s)", null));
        String withTrace = line(Level.ERROR, "failed {}", new IllegalStateException("boom"));
        assertTrue(withTrace.startsWith("ERROR Worker - failed 7" + System.lineSeparator()
                + "java.lang.IllegalStateException: boom"), withTrace);
        assertTrue(withTrace.contains("at dev.drover.logging.DroverLogConfiguratorTest"), withTrace);
    }

    @Test
    void masterLinesHaveATimestampAndTheLoggerInBrackets() {
        LoggerContext context = new LoggerContext();
        LoggingEvent event = new LoggingEvent("fqcn", context.getLogger("dev.drover.supervisor.arbiter.Arbiter"),
                Level.WARN, "worker {} died", null, new Object[] {3});
        String line = new DroverLogConfigurator.MasterLayout().doLayout(event);
        assertTrue(line.matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} WARN  \\[Arbiter\\] worker 3 died\\R"), line);
    }

    @Test
    void withoutTheRolePropertyLogbackConfiguresItselfAsUsual() {
        System.clearProperty(DroverLogConfigurator.PROPERTY);
        DroverLogConfigurator configurator = new DroverLogConfigurator();
        LoggerContext context = new LoggerContext();
        configurator.setContext(context);
        assertEquals(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY, configurator.configure(context));
    }
}
