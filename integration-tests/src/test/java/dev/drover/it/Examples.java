package dev.drover.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The example apps of examples/ (ordinary services that know nothing of Drover), as the reactor builds them: where
 * each jar is, which entry of it holds the release that GET /version reports, and how GET /hello names the app.
 * The plain Jetty and Tomcat jars are thin: their manifest's Class-Path is lib/..., beside the jar.
 */
enum Examples {
    SPRING_BOOT("examples/spring-boot/target/spring-boot-example.jar", "BOOT-INF/classes/application.properties",
            "spring-boot"),
    SPRING_BOOT_JETTY("examples/spring-boot-jetty/target/spring-boot-jetty-example.jar",
            "BOOT-INF/classes/application.properties", "spring-boot-jetty"),
    JETTY("examples/jetty/target/jetty-example.jar", "example.properties", "jetty"),
    TOMCAT("examples/tomcat/target/tomcat-example.jar", "example.properties", "tomcat");

    /** The property, in {@link #versionEntry()}, that GET /version and GET /hello report. */
    static final String VERSION_KEY = "example.version";

    private final String relativeJar;
    private final String versionEntry;
    private final String name;

    Examples(String relativeJar, String versionEntry, String name) {
        this.relativeJar = relativeJar;
        this.versionEntry = versionEntry;
        this.name = name;
    }

    /** The built jar; fails the test, saying how to build it, when it is missing. */
    Path jar() {
        Path jar = DroverProcess.HOME.resolve(relativeJar);
        if (!Files.isRegularFile(jar)) {
            fail(jar + " is missing (expected: built by the reactor); build it with `mvn -B -ntp -DskipTests install`"
                    + " at " + DroverProcess.HOME);
        }
        return jar;
    }

    /** The jar entry (a properties file) holding {@link #VERSION_KEY}. */
    String versionEntry() {
        return versionEntry;
    }

    /** What GET /hello answers before the pid: "hello from NAME VERSION pid PID". */
    String greeting(String version) {
        return "hello from " + name + " " + version + " pid ";
    }

    /** Whether the jar finds its dependencies in lib/ beside it (a copy elsewhere needs {@link Jars#linkLibraries}). */
    boolean thin() {
        return this == JETTY || this == TOMCAT;
    }
}
