package dev.drover.supervisor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Which server an app embeds, told from jar names and class entries of jars built here as the real ones are. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ServerScanTest {

    @TempDir
    Path dir;

    @Test
    void springBootWithTomcatInBootInfLib() throws Exception {
        Path jar = TestJars.springBoot(dir.resolve("demo.jar"), "tomcat-embed-core-10.1.48.jar",
                "tomcat-embed-websocket-10.1.48.jar");
        ServerScan.Result scan = ServerScan.ofJar(jar);
        assertEquals("Tomcat (tomcat-embed-core-10.1.48.jar in BOOT-INF/lib of " + jar + ")",
                scan.drivable().orElseThrow().toString());
        assertEquals(List.of(), scan.undrivable());
    }

    @Test
    void springBootWithJetty12AndWithAnOlderJetty() throws Exception {
        Path jetty12 = TestJars.springBoot(dir.resolve("j12.jar"), "jetty-server-12.0.29.jar", "jetty-ee10-servlet-12.0.29.jar");
        assertEquals("Jetty 12", ServerScan.ofJar(jetty12).drivable().orElseThrow().server());

        Path jetty11 = TestJars.springBoot(dir.resolve("j11.jar"), "jetty-server-11.0.24.jar");
        ServerScan.Result old = ServerScan.ofJar(jetty11);
        assertTrue(old.drivable().isEmpty(), old.toString());
        assertEquals("Jetty 11", old.undrivable().get(0).server());
    }

    @Test
    void aPlainJarsManifestClassPath() throws Exception {
        Path lib = dir.resolve("lib");
        TestJars.jar(lib.resolve("jetty-server-12.1.13.jar"), null, "org/eclipse/jetty/server/Server.class");
        TestJars.jar(lib.resolve("slf4j-api-2.0.17.jar"), null, "org/slf4j/Logger.class");
        Path jar = TestJars.jar(dir.resolve("plain.jar"), TestJars.main("com.example.Main", "Class-Path",
                "lib/slf4j-api-2.0.17.jar lib/jetty-server-12.1.13.jar lib/missing-1.0.jar"), "com/example/Main.class");
        ServerScan.Finding found = ServerScan.ofJar(jar).drivable().orElseThrow();
        assertEquals("Jetty 12", found.server());
        assertTrue(found.where().contains("the manifest Class-Path of " + jar), found.where());
    }

    @Test
    void aClassPathEntryThatDoesNotExistFindsNothing() throws Exception {
        Path jar = TestJars.jar(dir.resolve("plain.jar"), TestJars.main("com.example.Main", "Class-Path",
                "lib/tomcat-embed-core-10.1.48.jar"), "com/example/Main.class");
        ServerScan.Result scan = ServerScan.ofJar(jar);
        assertTrue(scan.findings().isEmpty(), "java -jar skips a missing Class-Path entry, so it counts for nothing: "
                + scan);
    }

    @Test
    void uberJarsByTheirConnectorClasses() throws Exception {
        Path tomcat = TestJars.jar(dir.resolve("tomcat-uber.jar"), TestJars.main("com.example.Main"),
                "com/example/Main.class", "org/apache/catalina/connector/Connector.class");
        assertEquals("Tomcat (org/apache/catalina/connector/Connector.class in " + tomcat + ")",
                ServerScan.ofJar(tomcat).drivable().orElseThrow().toString());

        Path jetty = TestJars.jar(dir.resolve("jetty-uber.jar"), TestJars.main("com.example.Main"),
                "org/eclipse/jetty/server/ServerConnector.class", ServerScan.JETTY_12_ONLY);
        assertEquals("Jetty 12", ServerScan.ofJar(jetty).drivable().orElseThrow().server());

        Path jetty9 = TestJars.jar(dir.resolve("jetty9-uber.jar"), TestJars.main("com.example.Main"),
                "org/eclipse/jetty/server/ServerConnector.class", "org/eclipse/jetty/server/handler/HandlerWrapper.class");
        ServerScan.Result old = ServerScan.ofJar(jetty9);
        assertTrue(old.drivable().isEmpty());
        assertEquals("Jetty before 12", old.undrivable().get(0).server());
    }

    @Test
    void undertowAndTheOtherServersDroverCannotDrive() throws Exception {
        Path undertow = TestJars.springBoot(dir.resolve("undertow.jar"), "undertow-core-2.3.18.Final.jar",
                "undertow-servlet-2.3.18.Final.jar");
        ServerScan.Result scan = ServerScan.ofJar(undertow);
        assertTrue(scan.drivable().isEmpty());
        assertEquals("Undertow (undertow-core-2.3.18.Final.jar in BOOT-INF/lib of " + undertow + ")",
                scan.undrivable().get(0).toString());

        Path others = TestJars.jar(dir.resolve("others.jar"), TestJars.main("com.example.Main"),
                "reactor/netty/http/server/HttpServer.class", "io/vertx/core/Vertx.class",
                "io/helidon/webserver/WebServer.class", "io/micronaut/http/server/netty/NettyHttpServer.class");
        assertEquals(List.of("Reactor Netty", "Vert.x", "Helidon", "Micronaut"),
                ServerScan.ofJar(others).undrivable().stream().map(ServerScan.Finding::server).toList());
    }

    @Test
    void noServerAtAllSaysWhereItLooked() throws Exception {
        Path jar = TestJars.jar(dir.resolve("batch.jar"), TestJars.main("com.example.Batch"), "com/example/Batch.class");
        ServerScan.Result scan = ServerScan.ofJar(jar);
        assertTrue(scan.findings().isEmpty());
        assertEquals(List.of("the 0 jar(s) nested in " + jar + " (BOOT-INF/lib, WEB-INF/lib)",
                "the class entries of " + jar, "the manifest Class-Path of " + jar + " (it has none)"), scan.lookedAt());
    }

    @Test
    void aMainClassesClasspathOfJarsAndDirectories() throws Exception {
        Path lib = dir.resolve("lib");
        TestJars.jar(lib.resolve("tomcat-embed-core-10.1.48.jar"), null, "org/apache/catalina/Server.class");
        assertEquals("Tomcat", ServerScan.ofClasspath(List.of(lib.resolve("*"))).drivable().orElseThrow().server());
        assertEquals("Tomcat", ServerScan.ofClasspath(List.of(lib)).drivable().orElseThrow().server(),
                "a directory of jars is its jars");

        Path classes = dir.resolve("classes");
        java.nio.file.Files.createDirectories(classes.resolve("io/undertow"));
        java.nio.file.Files.writeString(classes.resolve("io/undertow/Undertow.class"), "");
        ServerScan.Result scan = ServerScan.ofClasspath(List.of(classes));
        assertEquals("Undertow", scan.undrivable().get(0).server());
    }
}
