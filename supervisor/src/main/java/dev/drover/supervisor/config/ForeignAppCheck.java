package dev.drover.supervisor.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.zip.ZipException;

/**
 * The start-time checks that depend on the app's kind: a DroverApp takes no app-args; a jar or main class (a foreign
 * app) gets exactly one TCP socket, on its fd 0, has no use for Drover's own HTTP settings, and must embed a server
 * Drover can drive (ServerScan), with Drover's agent present to drive it.
 */
final class ForeignAppCheck {

    /** The settings that only Drover's own HTTP pipeline reads: a foreign app's server has its own. */
    private static final String NATIVE_ONLY_PREFIX = "http.";
    private static final String DEFAULT_ORIGIN = "the default in reference.conf";

    private ForeignAppCheck() {
    }

    static void verify(Settings settings) throws ConfigError {
        if (!settings.foreign()) {
            refuseAppArgs(settings);
            return;
        }
        List<String> problems = new ArrayList<>(bindProblems(settings));
        problems.addAll(nativeOnlyProblems(settings));
        if (!problems.isEmpty()) {
            throw new ConfigError(problems);
        }
        verifyServer(settings);
        verifyAgent(settings);
    }

    /** Why {@code jar} cannot run as {@code java -jar}, or null if it can. */
    static String executableJarProblem(Path jar) {
        String unreadable = AppCheck.unreadableFile(jar);
        if (unreadable != null) {
            return unreadable;
        }
        try (JarFile file = new JarFile(jar.toFile(), false)) {
            Manifest manifest = file.getManifest();
            if (manifest == null) {
                return "a jar without META-INF/MANIFEST.MF, so without a Main-Class";
            }
            String main = manifest.getMainAttributes().getValue(Attributes.Name.MAIN_CLASS);
            return main == null || main.isBlank() ? "its manifest names no Main-Class: not an executable jar" : null;
        } catch (ZipException e) {
            return "not a jar (zip) file: " + e.getMessage();
        } catch (IOException e) {
            return "cannot read " + jar + ": " + PathErrors.reason(e);
        }
    }

    private static void refuseAppArgs(Settings settings) throws ConfigError {
        if (!settings.appArgs().isEmpty()) {
            throw ConfigError.of("drover.app-args", AppCheck.quoted(settings.appArgs()), settings.origin("app-args"),
                    "given for " + settings.app() + ", a DroverApp class, whose start() takes no arguments",
                    "no app-args for a DroverApp (its settings go in the config file); arguments are for a jar or "
                    + "main-class app");
        }
    }

    /**
     * Exactly one TCP address: the socket reaches the worker as its fd 0, where Tomcat and Jetty look for an
     * inherited channel, and there is one fd 0. (An fd://N address is checked once bound: Master.)
     */
    private static List<String> bindProblems(Settings settings) {
        List<BindAddress> binds = settings.bind();
        String value = binds.stream().map(b -> "\"" + b + "\"").collect(Collectors.joining(", ", "[", "]"));
        String expected = "exactly one TCP address (HOST:PORT) for a jar or main-class app: its server gets the one "
                + "socket on its fd 0";
        if (binds.size() != 1) {
            return List.of(ConfigError.describe("drover.bind", value, settings.origin("bind"), binds.size()
                    + " addresses while drover.app is " + kindOf(settings) + " (" + settings.appLabel() + ")", expected));
        }
        if (binds.get(0) instanceof BindAddress.Unix) {
            return List.of(ConfigError.describe("drover.bind", value, settings.origin("bind"), "a Unix socket while "
                    + "drover.app is " + kindOf(settings) + " (" + settings.appLabel() + "): Tomcat and Jetty take "
                    + "only a TCP socket", expected));
        }
        return List.of();
    }

    /**
     * The http.* limits work inside Drover's own HTTP pipeline; set for a foreign app, they would not. (Warm-up
     * works for both: a foreign worker's agent runs it through the app's own server.)
     */
    private static List<String> nativeOnlyProblems(Settings settings) {
        List<String> problems = new ArrayList<>();
        String why = " while drover.app is " + kindOf(settings) + " (" + settings.appLabel() + "), whose own server ";
        for (Map.Entry<String, String> origin : settings.origins().entrySet()) {
            if (origin.getKey().startsWith(NATIVE_ONLY_PREFIX) && !origin.getValue().equals(DEFAULT_ORIGIN)) {
                problems.add("drover." + origin.getKey() + " (" + origin.getValue() + "): set" + why + "parses "
                        + "HTTP with its own limits; drover.http.* applies to DroverApp workers only (expected: "
                        + "no drover.http settings; set the limits in the app's server, e.g. server.tomcat.* or "
                        + "server.jetty.* for Spring Boot)");
            }
        }
        return problems;
    }

    private static void verifyServer(Settings settings) throws ConfigError {
        ServerScan.Result scan;
        try {
            scan = settings.appKind() == AppKind.JAR ? ServerScan.ofJar(Path.of(settings.app()))
                    : ServerScan.ofClasspath(settings.classpath());
        } catch (IOException e) {
            throw ConfigError.of("drover.app", settings.app(), settings.origin("app"), "cannot read it: "
                    + PathErrors.reason(e), "a readable jar");
        }
        if (scan.drivable().isPresent()) {
            return;
        }
        String subject = "drover.app = " + settings.app() + " (" + settings.origin("app") + "): refused: ";
        if (!scan.undrivable().isEmpty()) {
            List<ServerScan.Finding> found = scan.undrivable();
            throw new AppCheck.Refused(subject + "its server is " + found.stream().map(ServerScan.Finding::toString)
                    .collect(Collectors.joining(", ")) + ", which Drover cannot drive. " + AppCheck.DROVER_DRIVES + ".");
        }
        throw new AppCheck.Refused(subject + "no server Drover can drive was found: looked for tomcat-embed-core and "
                + "jetty-server 12 jars and their connector classes in " + String.join("; ", scan.lookedAt()) + ". "
                + AppCheck.DROVER_DRIVES + ".");
    }

    private static void verifyAgent(Settings settings) throws ConfigError {
        Path agent = AppClasspath.agentJar();
        if (!Files.isRegularFile(agent)) {
            throw new AppCheck.Refused("drover.app = " + settings.app() + " (" + settings.origin("app") + "): "
                    + "refused: Drover's agent, which every worker of a jar or main-class app runs with, is missing: "
                    + agent + " (expected: Drover built whole: mvn -B -DskipTests install in " + AppClasspath.home()
                    + ", or scripts/drover without DROVER_NO_BUILD=1, which builds what is missing)");
        }
    }

    private static String kindOf(Settings settings) {
        return settings.appKind() == AppKind.JAR ? "a jar" : "a main class";
    }
}
