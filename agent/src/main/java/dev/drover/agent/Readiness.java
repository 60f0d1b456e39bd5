package dev.drover.agent;

import java.util.concurrent.CompletableFuture;

/**
 * Decides when the app is ready: when Spring Boot's {@code SpringApplication.run} returns if it began (the
 * connector starts inside it, before the app's runners), else when the server's start returns. The first outcome,
 * ready or refused, is final.
 */
final class Readiness {
    private final CompletableFuture<String> ready = new CompletableFuture<>();
    private int springRuns;
    private boolean springSeen;
    private String listening;

    CompletableFuture<String> future() {
        return ready;
    }

    synchronized void springRunBegins() {
        springRuns++;
        springSeen = true;
    }

    /** Only the outermost run counts: Spring Cloud, for one, runs a bootstrap application inside the app's. */
    synchronized void springRunReturned() {
        if (springRuns == 0 || --springRuns > 0) {
            return;
        }
        if (listening == null) {
            refuse("SpringApplication.run returned and no Tomcat or Jetty connector listens on the socket passed on"
                    + " fd 0: Drover runs web apps with an embedded Tomcat or Jetty (is"
                    + " spring.main.web-application-type set to none?)");
        } else {
            ready.complete(listening + " (Spring Boot)");
        }
    }

    /** The adopted connector listens on fd 0's socket; {@code description} names it for the log. */
    synchronized void connectorListening(String description) {
        listening = description;
    }

    /**
     * The server's start returned (all its connectors started, or failed). Inside SpringApplication.run this means
     * nothing yet: Spring Boot starts its connectors later, at the end of the context's refresh.
     *
     * @param notListening why the app is refused if its connector is not listening by now
     */
    synchronized void serverStarted(String notListening) {
        if (springRuns > 0) {
            return;
        }
        if (listening != null) {
            ready.complete(springSeen ? listening + " (Spring Boot)" : listening);
        } else {
            refuse(notListening);
        }
    }

    void refuse(String reason) {
        ready.completeExceptionally(new ServerRefusedException(reason));
    }
}
