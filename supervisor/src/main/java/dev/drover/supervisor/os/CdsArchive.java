package dev.drover.supervisor.os;

import dev.drover.supervisor.config.PathErrors;
import dev.drover.supervisor.config.AppClasspath;
import dev.drover.supervisor.config.Settings;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Where a generation's AppCDS archive lives, named by a hash of everything that makes an archive valid: the
 * contents of every jar on the workers' classpath, the worker JVM options and the Java runtime. A changed jar gives
 * a new name, so a stale archive is never used (JDK 17 would only warn and run slower; research §5-6).
 */
public record CdsArchive(Path path, String whyNot) {

    /** The archive for these settings, or the reason there can be none ({@code whyNot} set, {@code path} null). */
    public static CdsArchive plan(Settings settings) {
        if (!settings.cds().enabled()) {
            return new CdsArchive(null, "drover.cds.enabled = false");
        }
        if (settings.foreign()) {
            // Spring Boot's nested jars defeat an archive of the jar as it is; it must be extracted and trained
            // with the agent and the socket on fd 0, which is not built yet.
            return new CdsArchive(null, "drover.app is a jar or main class: Drover builds no AppCDS archive for "
                    + "such an app yet");
        }
        try {
            // Workers map what is in this directory: it must be ours and writable by nobody else.
            PrivateDirectory.verifyIfExists(settings.cds().cacheDir(), PrivateDirectory.Rule.NOT_WRITABLE_BY_OTHERS);
        } catch (IOException e) {
            return new CdsArchive(null, "drover.cds.cache-dir " + (e instanceof PrivateDirectory.Unsafe
                    ? e.getMessage() : PathErrors.describe(e)));
        }
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            update(digest, System.getProperty("java.home") + "|" + System.getProperty("java.vm.version"));
            settings.workerJvmOptions().forEach(o -> update(digest, o));
            for (Path jar : jars(AppClasspath.workerClasspath(settings))) {
                update(digest, jar.toString());
                try (InputStream in = Files.newInputStream(jar)) {
                    byte[] buffer = new byte[1 << 16];
                    for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
                        digest.update(buffer, 0, n);
                    }
                }
            }
            String key = HexFormat.of().formatHex(digest.digest()).substring(0, 24);
            return new CdsArchive(settings.cds().cacheDir().resolve("drover-" + key + ".jsa"), null);
        } catch (NotAJar e) {
            return new CdsArchive(null, e.getMessage());
        } catch (IOException e) {
            return new CdsArchive(null, "cannot read the classpath: " + PathErrors.describe(e));
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
