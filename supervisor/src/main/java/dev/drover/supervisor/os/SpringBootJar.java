package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Tells a Spring Boot fat jar from its manifest (Spring Boot's launcher as Main-Class, and a Spring-Boot-Version),
 * and whether Spring Boot can extract it into a plain jar and its libraries ({@code -Djarmode=tools extract}, new in
 * 3.3): an AppCDS archive of the fat jar misses the classes of its nested jars, one of the extracted jar holds them.
 */
public record SpringBootJar(String version) {

    /** The launcher's class from 3.2 on, and before. */
    static final Set<String> LAUNCHERS = Set.of("org.springframework.boot.loader.launch.JarLauncher",
            "org.springframework.boot.loader.JarLauncher");
    static final String VERSION_ATTRIBUTE = "Spring-Boot-Version";

    /** The jar's Spring Boot, if it is a Spring Boot fat jar. */
    public static Optional<SpringBootJar> of(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile(), false)) {
            return of(file.getManifest());
        }
    }

    static Optional<SpringBootJar> of(Manifest manifest) {
        if (manifest == null) {
            return Optional.empty();
        }
        Attributes main = manifest.getMainAttributes();
        String version = main.getValue(VERSION_ATTRIBUTE);
        if (version == null || version.isBlank() || !LAUNCHERS.contains(main.getValue(Attributes.Name.MAIN_CLASS))) {
            return Optional.empty();
        }
        return Optional.of(new SpringBootJar(version.trim()));
    }

    /** Whether {@code java -Djarmode=tools -jar APP.jar extract} exists in this version (3.3 and later). */
    public boolean extractable() {
        int[] v = majorMinor(version);
        return v[0] > 3 || (v[0] == 3 && v[1] >= 3);
    }

    /** Why there is no extraction; only meaningful when {@link #extractable()} is false. */
    public String whyNotExtractable() {
        return "Spring Boot " + version + " cannot extract its jar (`-Djarmode=tools extract` is new in 3.3)";
    }

    /** "3.5.7" gives [3, 5], "3.3.0-SNAPSHOT" [3, 3]; anything unreadable [0, 0] (not extractable, to be safe). */
    static int[] majorMinor(String version) {
        String[] parts = version.split("[.-]");
        try {
            return new int[] {Integer.parseInt(parts[0]), parts.length > 1 ? Integer.parseInt(parts[1]) : 0};
        } catch (NumberFormatException e) {
            return new int[] {0, 0};
        }
    }
}
