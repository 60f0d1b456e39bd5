package dev.drover.agent;

import java.util.function.Function;

/**
 * What the rewritten server classes call (see {@link ServerClassTransformer}). Public and on the boot class path,
 * so that a server class in any of the app's class loaders links against it; JDK types only, the servers' objects
 * as Object. No hook ever throws into the server: a server the agent cannot drive is refused through
 * {@link ServerView#ready()}, never by failing the app's own code.
 */
public final class Hooks {
    private static final ServerState STATE = ServerState.INSTANCE;
    private static final ThreadLocal<JettyRequest> JETTY_REQUEST = new ThreadLocal<>();

    private Hooks() {
    }

    /** End of each Tomcat Connector constructor. */
    public static void tomcatConnectorCreated(Object connector) {
        created(connector, TomcatConnector::lookUp);
    }

    /** End of each Jetty ServerConnector constructor. */
    public static void jettyConnectorCreated(Object connector) {
        created(connector, JettyConnector::lookUp);
    }

    /** Tomcat's Connector.startInternal returned: its listener is open. */
    public static void tomcatConnectorStarted(Object connector) {
        guard(() -> STATE.connectorListening(connector));
    }

    /**
     * Tomcat's StandardServer.startInternal returned. Not the connector's start: the app is ready once all of the
     * server's connectors have started, so that a second one is refused before the first is reported ready.
     */
    public static void tomcatServerStarted(Object server) {
        guard(STATE::serverStarted);
    }

    /** Jetty's ServerConnector.open returned: its listener is open. */
    public static void jettyConnectorOpened(Object connector) {
        guard(() -> STATE.connectorListening(connector));
    }

    /** Jetty's Server.doStart returned. */
    public static void jettyServerStarted(Object server) {
        guard(STATE::serverStarted);
    }

    /** Tomcat's Connector.initInternal or startInternal, or Jetty's ServerConnector.open threw. */
    public static void connectorFailed(Object connector, Throwable failure) {
        guard(() -> STATE.connectorFailed(connector, failure));
    }

    /** Entry of SpringApplication.run(String...). */
    public static void springRunBegins() {
        STATE.readiness.springRunBegins();
    }

    /** SpringApplication.run(String...) returned: the app's runners have run. */
    public static void springRunReturned() {
        guard(STATE.readiness::springRunReturned);
    }

    /** Entry of the acceptor task (Tomcat's Acceptor.run, Jetty's AbstractConnector$Acceptor.run). */
    public static void awaitAcceptGate() {
        STATE.gate.await();
    }

    /**
     * Entry of Jetty's AbstractConnector.handleAcceptFailure: true (the rewritten method then returns false, which
     * ends that acceptor) when the drain closed the listener under it; Jetty would log it as an "Accept Failure".
     */
    public static boolean jettyAcceptFailed(Throwable failure) {
        return failure instanceof java.nio.channels.ClosedChannelException && JettyConnector.listenerClosedByDrain();
    }

    /** Entry of Tomcat's CoyoteAdapter.service. */
    public static void tomcatRequestBegins(Object coyoteRequest) {
        TomcatRequests.begins(coyoteRequest, STATE.requests);
    }

    /** CoyoteAdapter.service or asyncDispatch returned. */
    public static void tomcatRequestReturned(Object coyoteRequest) {
        TomcatRequests.returned(coyoteRequest);
    }

    /** CoyoteAdapter.service or asyncDispatch threw. */
    public static void tomcatRequestThrew(Object coyoteRequest) {
        TomcatRequests.ends(coyoteRequest);
    }

    /**
     * Entry of Jetty's Server.handle: the returned Runnable ends the request; the rewritten code wraps the request's
     * callback with it (Callback.from(callback, end)), so an asynchronous request stays in flight until it completes,
     * and ends with the status its {@code response} has then.
     */
    public static Runnable jettyRequestBegins(Object response) {
        JettyRequest request = new JettyRequest(STATE.requests.begin(), response);
        JETTY_REQUEST.set(request);
        return request;
    }

    /** Server.handle returned: not handled means Jetty answers 404 through the original callback, so end here. */
    public static void jettyHandleReturned(boolean handled) {
        JettyRequest request = JETTY_REQUEST.get();
        JETTY_REQUEST.remove();
        if (!handled && request != null) {
            request.end(404);
        }
    }

    /** Server.handle threw: Jetty fails the request through the original callback (a 500), so end here. */
    public static void jettyHandleThrew() {
        JettyRequest request = JETTY_REQUEST.get();
        JETTY_REQUEST.remove();
        if (request != null) {
            request.end(500);
        }
    }

    private static void created(Object connector, Function<Object, DrivenConnector> lookUp) {
        guard(() -> STATE.connectorCreated(connector, lookUp));
    }

    /** Runs a hook's work; a refusal or a fault of the agent goes to readiness, never to the server. */
    private static void guard(Runnable work) {
        try {
            work.run();
        } catch (ServerRefusedException e) {
            STATE.readiness.refuse(e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            STATE.readiness.refuse("Drover's agent failed while driving the app's server: " + e);
        }
    }
}
