package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release archive as a user gets it: unpacked into an empty directory and run from there with a Java runtime and
 * a few shell tools on PATH (no Maven), no DROVER_HOME, and nothing of the source checkout in its environment.
 */
@Timeout(120)
class DistributionIT {

    private static final Path ARCHIVE = Path.of(System.getProperty("drover.archive"));
    /** What bin/drover runs besides its shell's builtins and java. */
    private static final List<String> TOOLS = List.of("sh", "readlink", "sed", "head");

    @Test
    void theUnpackedArchiveServesWithAJavaRuntimeAlone(@TempDir Path dir) throws Exception {
        Path install = unpack(dir);
        Map<String, String> env = environment(dir);
        DroverProcess.Result version = run(dir, env, "--version");
        assertEquals(0, version.exitCode(), version.output());
        String name = install.getFileName().toString();
        assertTrue(version.output().startsWith("drover " + name.substring("drover-".length()) + "\n"),
                version.output());
        assertTrue(version.output().contains(" at " + System.getProperty("java.home")), version.output());

        String config = name + "/config/sample.conf";
        try (DroverProcess drover = DroverProcess.startAsIs(builder(dir, env, "-c", config, "-b", "127.0.0.1:0"))) {
            int port = drover.awaitServing(2, Duration.ofSeconds(90));
            assertEquals(200, Http.get(port, "/").status());
            DroverProcess.Result status = run(dir, env, "ctl", "-c", config, "status");
            assertEquals(0, status.exitCode(), status.output());
            assertEquals(2, status.output().lines().filter(l -> l.contains(" serving ")).count(), status.output());

            Set<Long> workers = drover.workerPids();
            ProcessHandle.of(drover.pid()).orElseThrow().destroy();
            assertEquals(0, drover.awaitExit(Duration.ofSeconds(30)), drover.output());
            DroverProcess.awaitCondition("no worker left", Duration.ofSeconds(10),
                    () -> workers.stream().noneMatch(DroverProcess::alive));
            assertFalse(drover.output().contains(DroverProcess.HOME.toString()),
                    "the installed Drover named the source checkout:\n" + drover.output());
        }
    }

    private static Path unpack(Path dir) throws Exception {
        Process tar = new ProcessBuilder("tar", "-xzf", ARCHIVE.toString(), "-C", dir.toString()).inheritIO().start();
        assertTrue(tar.waitFor(60, TimeUnit.SECONDS) && tar.exitValue() == 0, "tar -xzf " + ARCHIVE);
        String name = ARCHIVE.getFileName().toString().replace(".tar.gz", "");
        return dir.resolve(name);
    }

    /** PATH: java and the launcher's few tools, each a link of its own in a directory that holds nothing else. */
    private static Map<String, String> environment(Path dir) throws IOException {
        Path bin = Files.createDirectory(dir.resolve("path"));
        Files.createSymbolicLink(bin.resolve("java"), Path.of(System.getProperty("java.home"), "bin", "java"));
        for (String tool : TOOLS) {
            Files.createSymbolicLink(bin.resolve(tool), onPath(tool));
        }
        // The archive's own drover first on PATH, as an installation would put it (a link to bin/drover).
        Path install = dir.resolve(ARCHIVE.getFileName().toString().replace(".tar.gz", ""));
        Files.createSymbolicLink(bin.resolve("drover"), install.resolve("bin/drover"));
        // Not the user's caches: AppCDS (its training run is not what this test is about) and the leak reports.
        return Map.of("PATH", bin.toString(), "HOME", dir.toString(), "DROVER_CDS_ENABLED", "false",
                "DROVER_LEAK_REPORTS_DIR", dir.resolve("leaks").toString());
    }

    private static Path onPath(String tool) {
        for (String entry : System.getenv("PATH").split(File.pathSeparator)) {
            Path candidate = Path.of(entry, tool);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError(tool + " is not on this machine's PATH: bin/drover needs it");
    }

    /**
     * `drover ARGS` in {@code dir}, with exactly {@code env}, through the link on its PATH (named in full: a
     * ProcessBuilder searches the test's own PATH, not the child's).
     */
    private static ProcessBuilder builder(Path dir, Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of(dir.resolve("path/drover").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        builder.environment().clear();
        builder.environment().putAll(env);
        return builder;
    }

    private static DroverProcess.Result run(Path dir, Map<String, String> env, String... args) throws Exception {
        try (DroverProcess p = DroverProcess.startAsIs(builder(dir, env, args))) {
            int exit = p.awaitExit(Duration.ofSeconds(30));
            return new DroverProcess.Result(exit, p.output(), p.spawnedAnyWorker());
        }
    }
}
