package dev.drover.supervisor.config;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;

/**
 * Finds which HTTP server a jar or main-class app embeds, from names alone: the jars Spring Boot nests in
 * BOOT-INF/lib (and a war's WEB-INF/lib), a plain jar's manifest Class-Path, the jars of drover.classpath, and the
 * class entries of shaded (uber) jars. Only zip central directories and manifests are read, never a class's bytes:
 * a 60 MB Spring Boot jar takes milliseconds.
 */
public final class ServerScan {

    /** A server Drover knows by name; {@code drivable} if the agent can hand it the socket and drain it. */
    enum Server {
        TOMCAT("Tomcat", true, "tomcat-embed-core", "org/apache/catalina/connector/Connector.class"),
        JETTY("Jetty 12", true, "jetty-server", "org/eclipse/jetty/server/ServerConnector.class"),
        UNDERTOW("Undertow", false, "undertow-core", "io/undertow/Undertow.class"),
        REACTOR_NETTY("Reactor Netty", false, "reactor-netty-http", "reactor/netty/http/server/HttpServer.class"),
        VERTX("Vert.x", false, "vertx-core", "io/vertx/core/Vertx.class"),
        HELIDON("Helidon", false, "helidon-webserver", "io/helidon/webserver/WebServer.class"),
        MICRONAUT("Micronaut", false, "micronaut-http-server-netty",
                "io/micronaut/http/server/netty/NettyHttpServer.class");

        final String label;
        final boolean drivable;
        final Pattern jarName;
        final String classEntry;

        Server(String label, boolean drivable, String artifact, String classEntry) {
            this.label = label;
            this.drivable = drivable;
            this.jarName = Pattern.compile(Pattern.quote(artifact) + "-(\\d+)[^/]*\\.jar");
            this.classEntry = classEntry;
        }
    }

    /** Only in Jetty 12 (9 to 11 have handler.HandlerWrapper instead): tells Jetty 12 in a shaded jar. */
    static final String JETTY_12_ONLY = "org/eclipse/jetty/server/Handler$Wrapper.class";

    /** One server found, and where: "tomcat-embed-core-10.1.48.jar in BOOT-INF/lib of /srv/app.jar". */
    public record Finding(String server, boolean drivable, String where) {
        @Override
        public String toString() {
            return server + " (" + where + ")";
        }
    }

    /** Everything found, and the places looked at (for a message when nothing is). */
    public record Result(List<Finding> findings, List<String> lookedAt) {

        /** The first server Drover can drive, if any. */
        public Optional<Finding> drivable() {
            return findings.stream().filter(Finding::drivable).findFirst();
        }

        public List<Finding> undrivable() {
            return findings.stream().filter(f -> !f.drivable()).toList();
        }
    }

    private final List<Finding> findings = new ArrayList<>();
    private final Set<String> seen = new LinkedHashSet<>();
    private final List<String> lookedAt = new ArrayList<>();

    private ServerScan() {
    }

    /** An executable jar: its nested jars, its class entries, and the jars its manifest's Class-Path names. */
    public static Result ofJar(Path jar) throws IOException {
        ServerScan scan = new ServerScan();
        try (JarFile file = new JarFile(jar.toFile(), false)) {
            scan.nestedAndClasses(file, jar);
            scan.manifestClassPath(file.getManifest(), jar);
        }
        return scan.result();
    }

    /** A main-class app: the jars (DIR/* expanded) and directories of its classpath. */
    public static Result ofClasspath(List<Path> classpath) {
        ServerScan scan = new ServerScan();
        List<Path> jars = new ArrayList<>();
        List<Path> dirs = new ArrayList<>();
        for (String entry : AppClasspath.entries(classpath)) {
            Path path = Path.of(entry);
            if (AppClasspath.isWildcard(path)) {
                jars.addAll(AppCheck.jarsIn(path.getParent()));
            } else if (Files.isDirectory(path)) {
                dirs.add(path);
            } else {
                jars.add(path);
            }
        }
        jars.forEach(jar -> scan.classpathJar(jar, "drover.classpath"));
        dirs.forEach(scan::directory);
        scan.lookedAt.add("the " + jars.size() + " jar(s) of drover.classpath, by name and by their class entries");
        if (!dirs.isEmpty()) {
            scan.lookedAt.add("the class files under its " + dirs.size() + " director" + (dirs.size() == 1 ? "y" : "ies"));
        }
        return scan.result();
    }

    private Result result() {
        return new Result(List.copyOf(findings), List.copyOf(lookedAt));
    }

    private void nestedAndClasses(JarFile file, Path jar) {
        int nested = 0;
        Set<String> entries = new LinkedHashSet<>();
        for (Enumeration<? extends ZipEntry> e = file.entries(); e.hasMoreElements(); ) {
            String name = e.nextElement().getName();
            String lib = nestedLibrary(name);
            if (lib != null) {
                nested++;
                byName(name.substring(name.lastIndexOf('/') + 1), lib + " of " + jar);
            } else if (name.endsWith(".class")) {
                entries.add(name);
            }
        }
        byClassEntries(entries, jar.toString());
        lookedAt.add("the " + nested + " jar(s) nested in " + jar + " (BOOT-INF/lib, WEB-INF/lib)");
        lookedAt.add("the class entries of " + jar);
    }

    /** The directory of a nested library jar (Spring Boot's and a war's), or null if {@code entry} is none. */
    private static String nestedLibrary(String entry) {
        for (String dir : List.of("BOOT-INF/lib/", "WEB-INF/lib/", "WEB-INF/lib-provided/")) {
            if (entry.startsWith(dir) && entry.endsWith(".jar") && entry.indexOf('/', dir.length()) < 0) {
                return dir.substring(0, dir.length() - 1);
            }
        }
        return null;
    }

    /** Class-Path: space-separated URLs relative to the jar's directory; those that exist are opened too. */
    private void manifestClassPath(Manifest manifest, Path jar) {
        String classPath = manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
        if (classPath == null || classPath.isBlank()) {
            lookedAt.add("the manifest Class-Path of " + jar + " (it has none)");
            return;
        }
        String[] urls = classPath.trim().split("\\s+");
        for (String url : urls) {
            Path entry = resolve(jar, url);
            if (entry != null && Files.isRegularFile(entry)) {
                classpathJar(entry, "the manifest Class-Path of " + jar);
            }
        }
        lookedAt.add("the " + urls.length + " entr" + (urls.length == 1 ? "y" : "ies") + " of the manifest "
                + "Class-Path of " + jar + " (those that exist)");
    }

    private static Path resolve(Path jar, String url) {
        try {
            Path dir = jar.toAbsolutePath().getParent();
            return Path.of(dir.toUri().resolve(new URI(null, null, url, null)));
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null; // the JVM skips an entry it cannot read, and so does the scan
        }
    }

    private void classpathJar(Path jar, String where) {
        byName(jar.getFileName().toString(), where + " (" + jar + ")");
        Set<String> entries = new LinkedHashSet<>();
        try (JarFile file = new JarFile(jar.toFile(), false)) {
            for (Enumeration<? extends ZipEntry> e = file.entries(); e.hasMoreElements(); ) {
                String name = e.nextElement().getName();
                if (name.endsWith(".class")) {
                    entries.add(name);
                }
            }
        } catch (IOException e) {
            return; // not a jar: the JVM skips it too (AppCheck reports unreadable entries)
        }
        byClassEntries(entries, jar.toString());
    }

    private void directory(Path dir) {
        Set<String> present = new LinkedHashSet<>();
        for (Server server : Server.values()) {
            if (Files.isRegularFile(dir.resolve(server.classEntry))) {
                present.add(server.classEntry);
            }
        }
        if (Files.isRegularFile(dir.resolve(JETTY_12_ONLY))) {
            present.add(JETTY_12_ONLY);
        }
        byClassEntries(present, "the directory " + dir);
    }

    /** A library jar's file name: tomcat-embed-core-10.1.48.jar, jetty-server-12.0.29.jar (any other Jetty: no). */
    void byName(String fileName, String where) {
        for (Server server : Server.values()) {
            Matcher m = server.jarName.matcher(fileName);
            if (!m.matches()) {
                continue;
            }
            if (server == Server.JETTY && !m.group(1).equals("12")) {
                add("Jetty " + m.group(1), false, fileName + " in " + where);
            } else {
                add(server.label, server.drivable, fileName + " in " + where);
            }
        }
    }

    private void byClassEntries(Set<String> entries, String where) {
        for (Server server : Server.values()) {
            if (!entries.contains(server.classEntry)) {
                continue;
            }
            if (server == Server.JETTY && !entries.contains(JETTY_12_ONLY)) {
                add("Jetty before 12", false, server.classEntry + " in " + where);
            } else {
                add(server.label, server.drivable, server.classEntry + " in " + where);
            }
        }
    }

    private void add(String server, boolean drivable, String where) {
        if (seen.add(server + "|" + where)) {
            findings.add(new Finding(server, drivable, where));
        }
    }
}
