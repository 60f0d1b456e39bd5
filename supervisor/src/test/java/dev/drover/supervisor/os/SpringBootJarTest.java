package dev.drover.supervisor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpringBootJarTest {

    @TempDir
    Path dir;

    private static Manifest manifest(String mainClass, String version) {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (mainClass != null) {
            manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, mainClass);
        }
        if (version != null) {
            manifest.getMainAttributes().putValue("Spring-Boot-Version", version);
        }
        return manifest;
    }

    @Test
    void aFatJarIsSpringBootsLauncherWithAVersion() {
        assertEquals(Optional.of(new SpringBootJar("3.5.7")),
                SpringBootJar.of(manifest("org.springframework.boot.loader.launch.JarLauncher", "3.5.7")));
        assertEquals(Optional.of(new SpringBootJar("2.7.18")),
                SpringBootJar.of(manifest("org.springframework.boot.loader.JarLauncher", "2.7.18")), "before 3.2");
        assertEquals(Optional.empty(), SpringBootJar.of(manifest("com.example.Main", "3.5.7")),
                "a plain jar that only carries the attribute");
        assertEquals(Optional.empty(), SpringBootJar.of(manifest("org.springframework.boot.loader.launch.JarLauncher",
                null)), "no version: not a jar Spring Boot's plugin made");
        assertEquals(Optional.empty(), SpringBootJar.of(manifest("org.springframework.boot.loader.launch"
                + ".PropertiesLauncher", "3.5.7")), "PropertiesLauncher takes its classpath from loader.path");
        assertEquals(Optional.empty(), SpringBootJar.of((Manifest) null));
    }

    @Test
    void onlyThreeThreeAndLaterCanExtract() {
        assertTrue(new SpringBootJar("3.3.0").extractable());
        assertTrue(new SpringBootJar("3.5.7").extractable());
        assertTrue(new SpringBootJar("3.4.0-SNAPSHOT").extractable());
        assertTrue(new SpringBootJar("4.0.0-M3").extractable());
        assertFalse(new SpringBootJar("3.2.12").extractable());
        assertFalse(new SpringBootJar("2.7.18").extractable());
        assertFalse(new SpringBootJar("three").extractable(), "unreadable: not extractable, to be safe");
        assertEquals("Spring Boot 3.2.12 cannot extract its jar (`-Djarmode=tools extract` is new in 3.3)",
                new SpringBootJar("3.2.12").whyNotExtractable());
    }

    @Test
    void readFromTheJarsManifest() throws Exception {
        Path jar = dir.resolve("app.jar");
        try (OutputStream out = Files.newOutputStream(jar);
             JarOutputStream ignored = new JarOutputStream(out,
                     manifest("org.springframework.boot.loader.launch.JarLauncher", "3.5.7"))) {
            // the manifest is all that is read
        }
        assertEquals(Optional.of(new SpringBootJar("3.5.7")), SpringBootJar.of(jar));
    }
}
