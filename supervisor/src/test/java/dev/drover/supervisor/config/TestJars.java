package dev.drover.supervisor.config;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;

/** Small jars made in a test: a manifest with the given main attributes, and empty entries with the given names. */
final class TestJars {

    private TestJars() {
    }

    /** {@code attributes}: "Main-Class", "x.Main", "Class-Path", "lib/a.jar", ... (null: no manifest at all). */
    static Path jar(Path file, String[] attributes, String... entries) throws IOException {
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file);
             JarOutputStream jar = attributes == null ? new JarOutputStream(out)
                     : new JarOutputStream(out, manifest(attributes))) {
            for (String entry : entries) {
                jar.putNextEntry(new ZipEntry(entry));
                jar.closeEntry();
            }
        }
        return file;
    }

    static String[] main(String mainClass, String... more) {
        String[] all = new String[more.length + 2];
        all[0] = "Main-Class";
        all[1] = mainClass;
        System.arraycopy(more, 0, all, 2, more.length);
        return all;
    }

    private static Manifest manifest(String[] attributes) {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        for (int i = 0; i < attributes.length; i += 2) {
            manifest.getMainAttributes().putValue(attributes[i], attributes[i + 1]);
        }
        return manifest;
    }

    /** A Spring Boot fat jar's layout, with {@code libs} in BOOT-INF/lib. */
    static Path springBoot(Path file, String... libs) throws IOException {
        String[] entries = new String[libs.length + 3];
        entries[0] = "org/springframework/boot/loader/launch/JarLauncher.class";
        entries[1] = "BOOT-INF/classes/com/example/DemoApplication.class";
        entries[2] = "BOOT-INF/lib/spring-web-6.2.12.jar";
        for (int i = 0; i < libs.length; i++) {
            entries[i + 3] = "BOOT-INF/lib/" + libs[i];
        }
        return jar(file, main("org.springframework.boot.loader.launch.JarLauncher", "Start-Class",
                "com.example.DemoApplication"), entries);
    }
}
