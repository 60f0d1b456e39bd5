package dev.drover.agent;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.channels.Channel;
import java.nio.channels.SocketChannel;

/**
 * Drives one Tomcat {@code org.apache.catalina.connector.Connector} (NIO protocol). Every member it needs is looked
 * up when the connector is created, so that a Tomcat version without one is refused before it serves anything.
 */
final class TomcatConnector implements DrivenConnector {
    private final Object connector;
    private final Object protocol;
    private final Object endpoint;
    private final String server;
    private final Method setProperty;
    private final Method getPort;
    private final Method setMaxKeepAliveRequests;
    private final Method getConnectionCount;
    private final Method getServerSocket;
    private final Field running;
    private final Field acceptor;
    private final Field stopCalled;
    /** What the acceptor calls around its accept(), for the warm-up's connections; looked up at its first use. */
    private Method countUpOrAwaitConnection;
    private Method isPaused;
    private Method setSocketOptions;
    private Method closeSocket;
    private Method destroySocket;

    private TomcatConnector(Object connector, String server) {
        this.connector = connector;
        this.server = server;
        Class<?> connectorClass = connector.getClass();
        setProperty = Members.method(connectorClass, "setProperty", String.class, String.class);
        getPort = Members.method(connectorClass, "getPort");
        protocol = Members.invoke(Members.method(connectorClass, "getProtocolHandler"), connector);
        Class<?> protocolClass = protocol.getClass();
        setMaxKeepAliveRequests = Members.method(protocolClass, "setMaxKeepAliveRequests", int.class);
        getConnectionCount = Members.method(protocolClass, "getConnectionCount");
        endpoint = Members.get(Members.field(protocolClass, "endpoint"), protocol);
        Class<?> endpointClass = endpoint.getClass();
        if (!isNio(endpointClass)) {
            throw new ServerRefusedException(server + ": the connector's protocol " + protocolClass.getName()
                    + " uses " + endpointClass.getName() + "; Drover drives Tomcat's NIO connector only"
                    + " (org.apache.coyote.http11.Http11NioProtocol, Tomcat's and Spring Boot's default): use it");
        }
        getServerSocket = Members.method(endpointClass, "getServerSocket");
        running = Members.field(endpointClass, "running");
        acceptor = Members.field(endpointClass, "acceptor");
        stopCalled = Members.field(Members.classNamed("org.apache.tomcat.util.net.Acceptor", connectorClass),
                "stopCalled");
    }

    /** Looks up everything the agent needs of {@code connector}; refuses a Tomcat that lacks any of it. */
    static TomcatConnector lookUp(Object connector) {
        String server = version(connector.getClass());
        try {
            TomcatRequests.lookUp(connector.getClass());
            return new TomcatConnector(connector, server);
        } catch (Members.MissingMember | InaccessibleObjectException e) {
            throw new ServerRefusedException(server + " is not a Tomcat version Drover can drive: its " + e.getMessage()
                    + " is missing or closed (Drover drives Tomcat 10.1; tried with 10.1.48)");
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
        setProperty.invoke(connector, "useInheritedChannel", "true");
    }

    @Override
    public void verifyAdopted() {
        Object listener = Members.invoke(getServerSocket, endpoint);
        Channel inherited = Fd0.inheritedChannel();
        if (listener == null || listener != inherited) {
            throw new ServerRefusedException(server + "'s connector (port " + configuredPort() + ") does not listen"
                    + " on the socket Drover passed on fd 0 (" + Fd0.describe(inherited) + ") but on "
                    + Fd0.describe(listener) + ": start the worker with the shared listener as its standard input");
        }
    }

    @Override
    public int connections() {
        return (int) Math.min(Integer.MAX_VALUE, (long) Members.invoke(getConnectionCount, protocol));
    }

    /**
     * Not Connector.pause(): a paused Tomcat 10.1 closes a keep-alive connection without answering a request that
     * arrives on it, answers a request already being read with 503, and wakes its acceptor by connecting to the
     * listening address, which on a shared socket may land in another worker while this acceptor stays in accept()
     * and later drops a real client. Instead: maxKeepAliveRequests=1 (Tomcat reads it each time a connection has data,
     * so the next response on every connection carries Connection: close), then the acceptor's copy of the listener
     * is closed, which wakes its accept() through the JDK without taking a connection from the shared queue.
     */
    @Override
    public void stopAccepting() throws ReflectiveOperationException {
        setMaxKeepAliveRequests.invoke(protocol, 1);
        // With running false, the acceptor's accept() failing on the closed channel ends its loop quietly instead
        // of logging "Socket accept failed" with a stack trace. Tomcat reads the flag nowhere else while it serves.
        running.setBoolean(endpoint, false);
        closeListener();
        // The stop flag last, and a little later: the acceptor checks it after accept() returns and would drop a
        // connection accepted just before the close. Set at all so that an acceptor still held at the accept gate
        // ends without calling accept().
        sleep(50);
        Object theAcceptor = acceptor.get(endpoint);
        if (theAcceptor != null) {
            stopCalled.setBoolean(theAcceptor, true);
        }
    }

    @Override
    public synchronized String privateConnectionsUnsupported() {
        if (setSocketOptions != null) {
            return null;
        }
        try {
            Class<?> endpointClass = endpoint.getClass();
            countUpOrAwaitConnection = Members.method(endpointClass, "countUpOrAwaitConnection");
            isPaused = Members.method(endpointClass, "isPaused");
            closeSocket = Members.method(endpointClass, "closeSocket", Object.class);
            destroySocket = Members.method(endpointClass, "destroySocket", SocketChannel.class);
            setSocketOptions = Members.method(endpointClass, "setSocketOptions", SocketChannel.class);
            return null;
        } catch (Members.MissingMember | InaccessibleObjectException e) {
            setSocketOptions = null;
            return server + " has no " + e.getMessage() + " (what its acceptor calls for an accepted connection;"
                    + " Drover's warm-up was built for Tomcat 10.1)";
        }
    }

    /**
     * What Tomcat 10.1's Acceptor.run does with a connection it accepted: take a connection slot (maxConnections'
     * latch), then, unless the endpoint is paused, setSocketOptions (register it with the poller), and closeSocket if
     * that fails. The slot is given back when the connection closes, as for any other.
     */
    @Override
    public void serve(SocketChannel accepted) throws IOException {
        try {
            countUpOrAwaitConnection.invoke(endpoint);
            if ((boolean) isPaused.invoke(endpoint)) {
                destroySocket.invoke(endpoint, accepted);
                throw new IOException(server + "'s connector is paused");
            }
            if (!(boolean) setSocketOptions.invoke(endpoint, accepted)) {
                closeSocket.invoke(endpoint, accepted);
                throw new IOException(server + " did not take the connection (its log says why)");
            }
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e); // setAccessible succeeded when they were looked up
        } catch (InvocationTargetException e) {
            throw new IOException(server + " failed to take the connection: " + e.getCause(), e.getCause());
        }
    }

    private void closeListener() {
        Object listener = Members.invoke(getServerSocket, endpoint);
        if (listener instanceof Channel) {
            try {
                ((Channel) listener).close();
            } catch (IOException e) {
                System.err.println("drover agent: closing " + server + "'s copy of the shared listener: " + e);
            }
        }
    }

    private static boolean isNio(Class<?> endpointClass) {
        for (Class<?> c = endpointClass; c != null; c = c.getSuperclass()) {
            if (c.getName().equals("org.apache.tomcat.util.net.NioEndpoint")) {
                return true;
            }
        }
        return false;
    }

    private static String version(Class<?> connectorClass) {
        try {
            Method info = Members.classNamed("org.apache.catalina.util.ServerInfo", connectorClass)
                    .getMethod("getServerInfo");
            return ((String) info.invoke(null)).replace("Apache ", "").replace('/', ' ');
        } catch (ReflectiveOperationException | RuntimeException e) {
            return "Tomcat (version unknown)";
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
