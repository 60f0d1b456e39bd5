package dev.drover.supervisor.os;

import dev.drover.supervisor.config.PathErrors;
import dev.drover.supervisor.config.AppClasspath;
import dev.drover.supervisor.config.AppKind;
import dev.drover.supervisor.config.FileStamp;
import dev.drover.supervisor.config.Settings;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Where a generation's class archive lives, and which kind it is: an AppCDS archive (a dynamic archive, Java 17 to
 * 24) or an AOT cache (Java 25 and later, for a DroverApp's workers). Named by a hash of everything that makes it
 * valid: the kind, the contents of every jar on the workers' classpath (for a jar or main-class app: the app's jars
 * and Drover's agent), the worker JVM options and the workers' Java runtime down to its build. A changed jar gives a
 * new name, so a stale archive is never used: JDK 17 would only warn and run slower, and JDK 25 does not even notice
 * a jar rebuilt in place and runs the old classes from its AOT cache.
 */
public record CdsArchive(Path path, Kind kind, String whyNot) {

    /** Contents hashed, by path, with the stamp they had; a deployment's jars are a few dozen entries. */
    private static final Map<Path, Hashed> HASHED = new ConcurrentHashMap<>();
    private static final int REMEMBERED = 1024;
    /** How many files were read to be hashed: for the tests of what is remembered. */
    static final AtomicInteger HASHES_READ = new AtomicInteger();

    /** The two kinds of archive: how a training run writes one, and how a worker maps it. */
    public enum Kind {
        APPCDS("AppCDS archive", "AppCDS", ".jsa"),
        AOT_CACHE("AOT cache", "AOT cache", ".aot");

        private final String label;
        private final String shortLabel;
        private final String extension;

        Kind(String label, String shortLabel, String extension) {
            this.label = label;
            this.shortLabel = shortLabel;
            this.extension = extension;
        }

        /**
         * The kind for these settings' workers. A foreign worker keeps AppCDS on 25 too: JDK 25 cannot assemble an
         * AOT cache for a JVM with Drover's agent (the agent jar's Boot-Class-Path entry is relative, and the
         * assembly refuses it as a missing classpath entry), while a dynamic archive works with the agent there.
         */
        public static Kind of(Settings settings) {
            return settings.workerJava().aotCache() && !settings.foreign() ? AOT_CACHE : APPCDS;
        }

        /** How logs name it. */
        public String label() {
            return label;
        }

        /** How a worker's "ready" line names it. */
        public String shortLabel() {
            return shortLabel;
        }

        /** The options of a worker that maps {@code archive}. */
        public List<String> use(Path archive) {
            return List.of(this == AOT_CACHE ? "-XX:AOTCache=" + archive : "-XX:SharedArchiveFile=" + archive);
        }

        /**
         * The options of a training run that writes {@code archive} as it exits. Either dump lists every class it
         * skips (generated accessors, JFR events, proxies) as a warning: noise, not news, hence the logs off. On 25
         * the JVM forks a second JVM at exit that assembles the cache, with a temporary {@link #scratch} beside it.
         */
        public List<String> train(Path archive) {
            return this == AOT_CACHE ? List.of("-XX:AOTCacheOutput=" + archive, "-Xlog:aot=off", "-Xlog:cds=off")
                    : List.of("-XX:ArchiveClassesAtExit=" + archive, "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
        }

        /** The file the training JVM may leave beside {@code archive} if it is killed (the recorded configuration). */
        public Optional<Path> scratch(Path archive) {
            return this == AOT_CACHE ? Optional.of(archive.resolveSibling(archive.getFileName() + ".config"))
                    : Optional.empty();
        }
    }

    /** The archive for these settings, or the reason there can be none ({@code whyNot} set, {@code path} null). */
    public static CdsArchive plan(Settings settings) {
        return plan(settings, null);
    }

    /**
     * As {@link #plan(Settings)}, for workers that run {@code runJar} instead of drover.app (the jar Spring Boot
     * extracted from it); null: drover.app itself. A jar or main-class app's archive is keyed by the app's jars (a
     * jar and the jars its manifest Class-Path names, or drover.classpath) and by Drover's agent, which every such
     * worker and its training run load.
     */
    public static CdsArchive plan(Settings settings, Path runJar) {
        Kind kind = Kind.of(settings);
        if (!settings.cds().enabled()) {
            return new CdsArchive(null, kind, "drover.cds.enabled = false");
        }
        if (settings.runAs().user().isPresent()) {
            // The cache is root's (private, in root's home) and the training run would be the workers' user's: an
            // archive would need a directory both can use, which Drover does not set up yet.
            return new CdsArchive(null, kind,
                    "drover.user is set, and AppCDS is not available to workers of another user");
        }
        try {
            // Workers map what is in this directory: it must be ours and writable by nobody else.
            PrivateDirectory.verifyIfExists(settings.cds().cacheDir(), PrivateDirectory.Rule.NOT_WRITABLE_BY_OTHERS);
        } catch (IOException e) {
            return new CdsArchive(null, kind, "drover.cds.cache-dir " + (e instanceof PrivateDirectory.Unsafe
                    ? e.getMessage() : PathErrors.describe(e)));
        }
        try {
            MessageDigest digest = sha256();
            update(digest, kind.name());
            update(digest, settings.workerJava().identity());
            WorkerSpawner.options(settings).forEach(o -> update(digest, o));
            List<Path> jars = settings.foreign() ? foreignJars(settings, runJar)
                    : jars(AppClasspath.workerClasspath(settings));
            for (Path jar : jars) {
                update(digest, jar.toString());
                hashContents(digest, jar);
            }
            String key = HexFormat.of().formatHex(digest.digest()).substring(0, 24);
            return new CdsArchive(settings.cds().cacheDir().resolve("drover-" + key + kind.extension), kind, null);
        } catch (NotAJar e) {
            return new CdsArchive(null, kind, e.getMessage());
        } catch (IOException e) {
            return new CdsArchive(null, kind, "cannot read the classpath: " + PathErrors.describe(e));
        }
    }

    /** A file's contents as a short hex key (what names a Spring Boot jar's extraction). */
    public static String contentKey(Path file) throws IOException {
        return HexFormat.of().formatHex(contentHash(file)).substring(0, 24);
    }

    /** The agent first, then the app's jars as the worker's JVM finds them. */
    static List<Path> foreignJars(Settings settings, Path runJar) throws IOException, NotAJar {
        List<Path> jars = new ArrayList<>();
        jars.add(AppClasspath.agentJar());
        if (settings.appKind() == AppKind.JAR) {
            Path jar = (runJar != null ? runJar : Path.of(settings.app())).toAbsolutePath();
            jars.add(jar);
            jars.addAll(manifestClassPath(jar));
        } else {
            jars.addAll(jars(String.join(File.pathSeparator, AppClasspath.entries(settings.classpath()))));
        }
        return jars;
    }

    /**
     * The jars a jar's manifest Class-Path names (URLs relative to the jar's directory) that exist: the JVM skips
     * the others, and the archive records what it found. A directory there rules an archive out, as on -cp.
     */
    static List<Path> manifestClassPath(Path jar) throws IOException, NotAJar {
        String classPath;
        try (JarFile file = new JarFile(jar.toFile(), false)) {
            Manifest manifest = file.getManifest();
            classPath = manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
        }
        List<Path> jars = new ArrayList<>();
        if (classPath == null || classPath.isBlank()) {
            return jars;
        }
        for (String url : classPath.trim().split("\\s+")) {
            Path entry = resolve(jar, url);
            if (entry != null && Files.isDirectory(entry)) {
                throw new NotAJar("the manifest Class-Path of " + jar + " names the directory " + entry
                        + ": AppCDS archives classes from jars only");
            }
            if (entry != null && Files.isRegularFile(entry)) {
                jars.add(entry);
            }
        }
        return jars;
    }

    private static Path resolve(Path jar, String url) {
        try {
            return Path.of(jar.getParent().toUri().resolve(new URI(null, null, url, null)));
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null; // the JVM skips an entry it cannot read
        }
    }

    /** The SHA-256 of a file's contents, as an archive's key takes it in. */
    private static void hashContents(MessageDigest digest, Path file) throws IOException {
        digest.update(contentHash(file));
    }

    /**
     * A file's SHA-256, read again only when its stamp changed: every reload plans its generation's archive, and
     * hashing the workers' jars (Netty's among them) took 130-190 ms of the arbiter's time per reload on 2 busy cores.
     * The stamp is taken before the read, so a file changed during it is read again next time. A jar rebuilt or
     * copied in place gets a new modification time (and mostly a new size), a jar moved into place a new inode: each
     * is read again, so the name still follows the contents (which JDK 25's AOT cache does not check itself). A file
     * modified in the last seconds is not remembered (FileStamp.settled).
     */
    static byte[] contentHash(Path file) throws IOException {
        FileStamp stamp = FileStamp.of(file).orElse(null);
        Hashed known = stamp == null ? null : HASHED.get(file);
        if (known != null && known.stamp().equals(stamp)) {
            return known.sha256().clone();
        }
        MessageDigest digest = sha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
                digest.update(buffer, 0, n);
            }
        }
        byte[] sha256 = digest.digest();
        if (stamp != null && stamp.settled()) {
            if (HASHED.size() >= REMEMBERED) {
                HASHED.clear(); // a jar of a new name at every deploy (app-1.2.3.jar): start over rather than grow
            }
            HASHED.put(file, new Hashed(stamp, sha256.clone()));
        }
        HASHES_READ.incrementAndGet();
        return sha256;
    }

    private record Hashed(FileStamp stamp, byte[] sha256) {
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    public boolean possible() {
        return path != null;
    }

    public boolean exists() {
        return path != null && Files.isRegularFile(path);
    }

    /** The classpath's jars in order, with "dir/*" expanded as the java launcher does. */
    static List<Path> jars(String classpath) throws IOException, NotAJar {
        List<Path> jars = new ArrayList<>();
        for (String entry : classpath.split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            if (entry.endsWith("/*")) {
                List<Path> inDir = new ArrayList<>();
                try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of(entry.substring(0, entry.length() - 2)),
                        "*.{jar,JAR}")) {
                    dir.forEach(inDir::add);
                }
                inDir.stream().sorted().forEach(jars::add);
            } else if (Files.isDirectory(Path.of(entry))) {
                throw new NotAJar("classpath entry " + entry + " is a directory: AppCDS archives classes from jars only");
            } else {
                jars.add(Path.of(entry));
            }
        }
        return jars;
    }

    private static void update(MessageDigest digest, String text) {
        digest.update(text.getBytes(StandardCharsets.UTF_8));
        digest.update((byte) 0);
    }

    static final class NotAJar extends Exception {
        NotAJar(String message) {
            super(message);
        }
    }
}
