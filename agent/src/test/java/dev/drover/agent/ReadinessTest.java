package dev.drover.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ReadinessTest {
    private final Readiness readiness = new Readiness();

    @Test
    @Timeout(5)
    void withoutSpringReadyWhenTheServerStartReturns() throws Exception {
        readiness.connectorListening("Tomcat 10.1.48 on the inherited socket");
        assertFalse(readiness.future().isDone(), "a second connector may still start");
        readiness.serverStarted("not listening");
        assertEquals("Tomcat 10.1.48 on the inherited socket", readiness.future().get());
    }

    @Test
    @Timeout(5)
    void withSpringReadyOnlyWhenTheOutermostRunReturns() throws Exception {
        readiness.springRunBegins();
        readiness.serverStarted("not listening"); // Spring Boot starts its connector after the server
        readiness.springRunBegins(); // a nested run (a bootstrap context)
        readiness.connectorListening("Jetty 12.0.29 on the inherited socket");
        readiness.springRunReturned();
        assertFalse(readiness.future().isDone(), "the app's runners have not run yet");
        readiness.springRunReturned();
        assertEquals("Jetty 12.0.29 on the inherited socket (Spring Boot)", readiness.future().get());
    }

    @Test
    @Timeout(5)
    void aServerStartedWithoutItsListenerIsRefused() {
        readiness.serverStarted("Tomcat started without its connector");
        ExecutionException e = assertThrows(ExecutionException.class, () -> readiness.future().get());
        assertTrue(e.getCause() instanceof ServerRefusedException);
        assertEquals("Tomcat started without its connector", e.getCause().getMessage());
    }

    @Test
    @Timeout(5)
    void aSpringAppWithoutAConnectorIsRefused() {
        readiness.springRunBegins();
        readiness.springRunReturned();
        ExecutionException e = assertThrows(ExecutionException.class, () -> readiness.future().get());
        assertTrue(e.getCause().getMessage().contains("web-application-type"), e.getCause().getMessage());
    }

    @Test
    @Timeout(5)
    void theFirstOutcomeIsFinal() throws Exception {
        readiness.refuse("a second connector (port 8081)");
        readiness.connectorListening("Tomcat");
        readiness.serverStarted("x");
        assertTrue(readiness.future().isCompletedExceptionally());
    }
}
