package dev.drover.examples.tomcat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;

/** Starts the service on embedded Tomcat, on port 8080 or -Dport, and serves until the JVM is stopped. */
public final class TomcatExample {

    private TomcatExample() {
    }

    public static void main(String[] args) throws Exception {
        // Tomcat wants a base directory for its work files; a temporary one keeps them out of the working directory.
        Path baseDir = Files.createTempDirectory("tomcat-example-");
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(baseDir.toString());
        tomcat.setPort(Integer.getInteger("port", 8080));
        Context context = tomcat.addContext("", null);
        Tomcat.addServlet(context, "example", new ExampleServlet(version()));
        context.addServletMappingDecoded("/", "example");
        tomcat.getConnector();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(tomcat, baseDir), "tomcat-example-stop"));
        tomcat.start();
        tomcat.getServer().await();
    }

    /** The release, from example.properties in the jar. */
    static String version() {
        try (InputStream in = TomcatExample.class.getResourceAsStream("/example.properties")) {
            Properties properties = new Properties();
            if (in != null) {
                properties.load(in);
            }
            return properties.getProperty("example.version", "1");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read example.properties from the jar", e);
        }
    }

    private static void stop(Tomcat tomcat, Path baseDir) {
        try {
            tomcat.stop();
            tomcat.destroy();
            try (Stream<Path> files = Files.walk(baseDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        } catch (Exception e) {
            System.err.println("tomcat-example: stopping: " + e);
        }
    }
}
