package dev.drover.agent;

import java.io.IOException;
import java.nio.channels.SocketChannel;

/** The agent's handle on one server connector (Tomcat's Connector, Jetty's ServerConnector), driven by reflection. */
interface DrivenConnector {

    /** The server and its version, for messages: "Tomcat 10.1.48". */
    String server();

    /** The port the app configured for it (never bound when it adopts fd 0). */
    int configuredPort();

    /** Tells it to take its listener from fd 0 (System.inheritedChannel()) instead of binding the port. */
    void adoptInheritedChannel() throws ReflectiveOperationException;

    /** Refuses the app ({@link ServerRefusedException}) when its listener is not fd 0's socket. */
    void verifyAdopted();

    /** Open connections, or -1 when it cannot tell. */
    int connections();

    /**
     * Stops accepting without taking a connection from the shared queue and makes every keep-alive connection close
     * after its next response; requests in flight go on.
     */
    void stopAccepting() throws ReflectiveOperationException;

    /**
     * Why this server cannot be handed a connection of Drover's own (the warm-up's): the name of the member its
     * version lacks; null when it can. Not a refusal: the warm-up is an optimisation.
     */
    String privateConnectionsUnsupported();

    /**
     * Gives {@code accepted} (blocking, just accepted from a listener that is not the shared socket) to the server as
     * if its acceptor had accepted it. Only after {@link #privateConnectionsUnsupported()} returned null.
     */
    void serve(SocketChannel accepted) throws IOException;
}
