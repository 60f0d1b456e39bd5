package dev.drover.agent;

import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.Method;
import java.nio.channels.Channel;
import java.util.Collection;

/**
 * Drives one Jetty 12 {@code org.eclipse.jetty.server.ServerConnector} through its public API. Its members are
 * looked up when the connector is created, so that a Jetty version without one is refused before it serves.
 */
final class JettyConnector implements DrivenConnector {
    private final Object connector;
    private final String server;
    private final Method setInheritChannel;
    private final Method getTransport;
    private final Method getPort;
    private final Method getConnectedEndPoints;
    private final Method shutdown;

    private JettyConnector(Object connector, String server) {
        this.connector = connector;
        this.server = server;
        Class<?> c = connector.getClass();
        setInheritChannel = Members.method(c, "setInheritChannel", boolean.class);
        getTransport = Members.method(c, "getTransport");
        getPort = Members.method(c, "getPort");
        getConnectedEndPoints = Members.method(c, "getConnectedEndPoints");
        shutdown = Members.method(c, "shutdown");
    }

    static JettyConnector lookUp(Object connector) {
        String server = version(connector.getClass());
        try {
            return new JettyConnector(connector, server);
        } catch (Members.MissingMember | InaccessibleObjectException e) {
            throw new ServerRefusedException(server + " is not a Jetty version Drover can drive: its " + e.getMessage()
                    + " is missing or closed (Drover drives Jetty 12; tried with 12.0.29 and 12.1.13)");
        }
    }

    @Override
    public String server() {
        return server;
    }

    @Override
    public int configuredPort() {
        return (int) TomcatConnector.invoke(getPort, connector);
    }

    @Override
    public void adoptInheritedChannel() throws ReflectiveOperationException {
        setInheritChannel.invoke(connector, true);
    }

    /** Needed for Jetty: when fd 0 is not a listener it logs a warning and binds the configured port itself. */
    @Override
    public void verifyAdopted() {
        Object listener = TomcatConnector.invoke(getTransport, connector);
        Channel inherited = Fd0.inheritedChannel();
        if (listener == null || listener != inherited) {
            throw new ServerRefusedException(server + "'s connector (port " + configuredPort() + ") does not listen"
                    + " on the socket Drover passed on fd 0 (" + Fd0.describe(inherited) + ") but on "
                    + Fd0.describe(listener) + ": start the worker with the shared listener as its standard input");
        }
    }

    @Override
    public int connections() {
        return ((Collection<?>) TomcatConnector.invoke(getConnectedEndPoints, connector)).size();
    }

    /**
     * Jetty's graceful shutdown of the connector: its acceptors are interrupted (an interrupted accept() closes the
     * worker's copy of the listener; nothing is taken from the shared queue), idle connections are closed, and the
     * next response on a busy one carries Connection: close.
     */
    @Override
    public void stopAccepting() throws ReflectiveOperationException {
        shutdown.invoke(connector);
    }

    private static String version(Class<?> connectorClass) {
        try {
            Class<?> serverClass = TomcatConnector.classNamed("org.eclipse.jetty.server.Server", connectorClass);
            return "Jetty " + serverClass.getMethod("getVersion").invoke(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return "Jetty (version unknown)";
        }
    }
}
