package dev.drover.agent;

import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.Method;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.channels.Channel;
import java.nio.channels.SocketChannel;
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
    private final Method setAccepting;
    private final Method getConnectionFactories;
    private static volatile boolean listenerClosed;
    /** ServerConnector's private accepted(SocketChannel), for the warm-up's connections; looked up at its first use. */
    private Method accepted;

    private JettyConnector(Object connector, String server) {
        this.connector = connector;
        this.server = server;
        Class<?> c = connector.getClass();
        setInheritChannel = Members.method(c, "setInheritChannel", boolean.class);
        getTransport = Members.method(c, "getTransport");
        getPort = Members.method(c, "getPort");
        getConnectedEndPoints = Members.method(c, "getConnectedEndPoints");
        setAccepting = Members.method(c, "setAccepting", boolean.class);
        getConnectionFactories = Members.method(c, "getConnectionFactories");
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
        return (int) Members.invoke(getPort, connector);
    }

    @Override
    public void adoptInheritedChannel() throws ReflectiveOperationException {
        setInheritChannel.invoke(connector, true);
    }

    /** Needed for Jetty: when fd 0 is not a listener it logs a warning and binds the configured port itself. */
    @Override
    public void verifyAdopted() {
        Object listener = Members.invoke(getTransport, connector);
        Channel inherited = Fd0.inheritedChannel();
        if (listener == null || listener != inherited) {
            throw new ServerRefusedException(server + "'s connector (port " + configuredPort() + ") does not listen"
                    + " on the socket Drover passed on fd 0 (" + Fd0.describe(inherited) + ") but on "
                    + Fd0.describe(listener) + ": start the worker with the shared listener as its standard input");
        }
    }

    @Override
    public int connections() {
        return ((Collection<?>) Members.invoke(getConnectedEndPoints, connector)).size();
    }

    /**
     * Not Jetty's own graceful shutdown(): a response committed as keep-alive just before it is followed by a close
     * of its connection, so the client's next request, already on its way, finds the connection closed (1 request
     * lost in several thousand, at every few drains under load). Instead, as for Tomcat: every request read from now
     * on is answered with Connection: close (the HTTP configuration's persistent connections off: Jetty reads it as
     * each request's head completes), the acceptors stop taking connections, and the worker's copy of the listener
     * is closed, which wakes an acceptor blocked in accept() without taking a connection from the shared queue (a
     * connection the kernel handed over just before is returned and served). Not by interrupting the acceptors, as
     * shutdown() does: an interrupt that lands between the kernel's accept and the JDK's bookkeeping throws, and the
     * connection just accepted is dropped (seen here as a reset of a fresh connection). Jetty would log the
     * acceptor's AsynchronousCloseException as an "Accept Failure"; Hooks.jettyAcceptFailed ends it quietly.
     */
    @Override
    public void stopAccepting() throws ReflectiveOperationException {
        for (Object factory : (Collection<?>) getConnectionFactories.invoke(connector)) {
            Method configuration = httpConfiguration(factory);
            if (configuration != null) {
                Object http = configuration.invoke(factory);
                http.getClass().getMethod("setPersistentConnectionsEnabled", boolean.class).invoke(http, false);
            }
        }
        setAccepting.invoke(connector, false);
        listenerClosed = true;
        try {
            ((Channel) Members.invoke(getTransport, connector)).close();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot close the worker's copy of the listener: " + e, e);
        }
    }

    /** Whether this drain closed the listener: then an acceptor's failure to accept is the drain, not a fault. */
    static boolean listenerClosedByDrain() {
        return listenerClosed;
    }

    /** HttpConnectionFactory's (and HTTP/2's) getHttpConfiguration(), if this factory has one. */
    private static Method httpConfiguration(Object factory) {
        try {
            return factory.getClass().getMethod("getHttpConfiguration");
        } catch (NoSuchMethodException e) {
            return null; // SSL and other wrapping factories: the HTTP one behind them has it
        }
    }

    @Override
    public synchronized String privateConnectionsUnsupported() {
        if (accepted != null) {
            return null;
        }
        try {
            accepted = Members.method(connector.getClass(), "accepted", SocketChannel.class);
            return null;
        } catch (Members.MissingMember | InaccessibleObjectException e) {
            return server + " has no " + e.getMessage() + " (what its acceptor calls for an accepted connection;"
                    + " Drover's warm-up was built for Jetty 12)";
        }
    }

    /**
     * What Jetty 12's acceptor does with a connection it accepted: ServerConnector.accepted, which makes it
     * non-blocking, applies the connector's socket options and hands it to the selector manager, whose accept
     * listeners (Jetty's connection limit among them) see it as they see any accepted connection.
     */
    @Override
    public void serve(SocketChannel channel) throws IOException {
        try {
            accepted.invoke(connector, channel);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e); // setAccessible succeeded when it was looked up
        } catch (InvocationTargetException e) {
            throw new IOException(server + " failed to take the connection: " + e.getCause(), e.getCause());
        }
    }

    private static String version(Class<?> connectorClass) {
        try {
            Class<?> serverClass = Members.classNamed("org.eclipse.jetty.server.Server", connectorClass);
            return "Jetty " + serverClass.getMethod("getVersion").invoke(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return "Jetty (version unknown)";
        }
    }
}
