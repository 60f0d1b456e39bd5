package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An app that is not one jar: a main class on --classpath, with --app-arg for its main(). The plain Tomcat example
 * serves that way; an app that opens a second connector (a second port, as an admin endpoint would) is refused
 * with exit code 4 and the reason, since a Drover worker serves exactly the one shared socket.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ForeignMainClassIT {

    /** Embedded Tomcat with the service's connector and an admin connector on a port of its own. */
    private static final String TWO_CONNECTORS = """
            package it.twoconnectors;

            import org.apache.catalina.connector.Connector;
            import org.apache.catalina.startup.Tomcat;

            public final class TwoConnectors {
                public static void main(String[] args) throws Exception {
                    Tomcat tomcat = new Tomcat();
                    tomcat.setBaseDir(args[0]);
                    tomcat.setPort(8080);
                    tomcat.getConnector();
                    Connector admin = new Connector();
                    admin.setPort(Integer.parseInt(args[1]));
                    tomcat.getService().addConnector(admin);
                    tomcat.start();
                    tomcat.getServer().await();
                }
            }
            """;

    @TempDir
    Path dir;

    private static String tomcatLibs() {
        return Examples.TOMCAT.jar().resolveSibling("lib").resolve("*").toString();
    }

    @Test
    void theTomcatExampleServesAsAMainClassOnAClasspath() throws Exception {
        String classpath = Examples.TOMCAT.jar() + ":" + tomcatLibs();
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "1", "-b", "127.0.0.1:0", "--classpath",
                classpath, "dev.drover.examples.tomcat.TomcatExample"), ForeignApps.NO_CLASSPATH)) {
            int port = drover.awaitServing(1, ForeignApps.BOOT);
            Http.Response response = Http.get(port, "/hello");
            assertEquals(200, response.status(), response.body());
            assertTrue(response.body().startsWith(Examples.TOMCAT.greeting("1")), response.body());
            assertTrue(drover.workerPids().contains(response.workerPid()), "a worker of this master answered");
        }
    }

    @Test
    void anAppWithASecondConnectorIsRefusedWithExitCode4AndTheReason() throws Exception {
        Path classes = compile(TWO_CONNECTORS, "it/twoconnectors/TwoConnectors.java");
        int adminPort;
        try (ServerSocket probe = new ServerSocket(0)) {
            adminPort = probe.getLocalPort(); // free now; nothing may ever listen on it
        }
        Path baseDir = Files.createDirectories(dir.resolve("tomcat-base"));
        DroverProcess.Result result;
        try (DroverProcess drover = DroverProcess.start(List.of("-w", "2", "-b", "127.0.0.1:0", "--classpath",
                classes + ":" + tomcatLibs(), "--app-arg", baseDir.toString(), "--app-arg", Integer.toString(adminPort),
                "it.twoconnectors.TwoConnectors"), ForeignApps.NO_CLASSPATH)) {
            int code = drover.awaitExit(ForeignApps.BOOT);
            result = new DroverProcess.Result(code, drover.output(), drover.spawnedAnyWorker());
            ForeignApps.assertNoProcessLeft(drover);
        }
        assertEquals(4, result.exitCode(), result.output());
        assertTrue(result.output().contains("Drover cannot drive its server: the app opens a second"), result.output());
        assertTrue(result.output().contains("connector (port " + adminPort + ")"), "names the second port:\n"
                + result.output());
        assertTrue(!result.output().contains(" ready in "), "no worker ever served:\n" + result.output());
    }

    /** Compiles one source file against the plain Tomcat example's libraries; returns the classes directory. */
    private Path compile(String source, String relativePath) throws Exception {
        Path src = dir.resolve("src").resolve(relativePath);
        Files.createDirectories(src.getParent());
        Files.writeString(src, source);
        Path classes = Files.createDirectories(dir.resolve("classes"));
        List<Path> libs;
        try (var files = Files.list(Examples.TOMCAT.jar().resolveSibling("lib"))) {
            libs = files.toList();
        }
        String classpath = String.join(":", libs.stream().map(Path::toString).toList());
        int code = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), "-cp",
                classpath, src.toString());
        assertEquals(0, code, "javac of " + src);
        return classes;
    }
}
