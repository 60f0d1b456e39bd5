package dev.drover.examples.jetty;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/** Starts the service on embedded Jetty, on port 8080 or -Dport, and serves until the JVM is stopped. */
public final class JettyExample {

    private JettyExample() {
    }

    public static void main(String[] args) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setPort(Integer.getInteger("port", 8080));
        server.addConnector(connector);
        server.setHandler(new ExampleHandler(version()));
        server.setStopAtShutdown(true);
        server.start();
        server.join();
    }

    /** The release, from example.properties in the jar. */
    static String version() {
        try (InputStream in = JettyExample.class.getResourceAsStream("/example.properties")) {
            Properties properties = new Properties();
            if (in != null) {
                properties.load(in);
            }
            return properties.getProperty("example.version", "1");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read example.properties from the jar", e);
        }
    }
}
