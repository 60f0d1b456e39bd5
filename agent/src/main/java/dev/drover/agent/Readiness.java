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
    private String server;

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
        if (server == null) {
            refuse("SpringApplication.run returned and no Tomcat or Jetty connector started: Drover runs web apps"
                    + " with an embedded Tomcat or Jetty (is spring.main.web-application-type set to none?)");
        } else {
            ready.complete(server + " (Spring Boot)");
        }
    }

    /** The server started on the inherited socket; {@code description} names it for the log. */
    synchronized void serverStarted(String description) {
        if (server != null) {
            return;
        }
        server = description;
        if (springRuns == 0) {
            ready.complete(springSeen ? description + " (Spring Boot)" : description);
        }
    }

    void refuse(String reason) {
        ready.completeExceptionally(new ServerRefusedException(reason));
    }
}
