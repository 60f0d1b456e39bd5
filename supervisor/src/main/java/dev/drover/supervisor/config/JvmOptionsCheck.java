package dev.drover.supervisor.config;

import dev.drover.supervisor.os.Children;
import dev.drover.supervisor.systemd.SystemdEnvironment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Asks the workers' own java whether it accepts drover.worker-jvm-options, by starting it with them and -version
 * (about 25 ms here), so that an option it refuses is a config error with the JVM's own words, not a worker that
 * fails to boot. Not cached: a start is cheap, and what an option names (an agent's jar) may change between reloads.
 */
final class JvmOptionsCheck {

    /** The binary WorkerSpawner starts workers with: the master's own Java. */
    static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");
    private static final long TIME_LIMIT_SECONDS = 20;
    /** What the launcher says after every refusal: not the reason, so not worth quoting. */
    private static final Set<String> BOILERPLATE = Set.of("Error occurred during initialization of VM",
            "Error: Could not create the Java Virtual Machine.",
            "Error: A fatal exception has occurred. Program will exit.");

    private JvmOptionsCheck() {
    }

    /** The JVM's complaint about {@code options} (its first line that says why), or empty if it starts. */
    static Optional<String> complaint(List<String> options) {
        List<String> command = new ArrayList<>();
        command.add(JAVA.toString());
        options.stream().filter(o -> !hasSideEffects(o)).forEach(command::add);
        // Touching every page of a big -Xms would make the check as slow and as large as the heap.
        command.add("-XX:-AlwaysPreTouch");
        command.add("-version");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            SystemdEnvironment.scrub(builder.environment());
            Process java = Children.start(builder::start);
            java.getOutputStream().close();
            // Read on the side: options that print a lot (-XX:+PrintFlagsFinal) would otherwise fill the pipe.
            CompletableFuture<byte[]> output = CompletableFuture.supplyAsync(() -> readAll(java));
            if (!java.waitFor(TIME_LIMIT_SECONDS, TimeUnit.SECONDS)) {
                java.destroyForcibly();
                return Optional.empty(); // no verdict: the workers' start will tell
            }
            return java.exitValue() == 0 ? Optional.empty() : Optional.of(firstReason(
                    new String(output.get(TIME_LIMIT_SECONDS, TimeUnit.SECONDS), StandardCharsets.UTF_8),
                    java.exitValue()));
        } catch (IOException e) {
            return Optional.of("cannot run " + JAVA + ": " + e.getMessage());
        } catch (ExecutionException | TimeoutException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private static byte[] readAll(Process java) {
        try {
            return java.getInputStream().readAllBytes();
        } catch (IOException e) {
            return new byte[0];
        }
    }

    static String firstReason(String output, int exitCode) {
        return output.lines().map(String::strip).filter(l -> !l.isEmpty() && !BOILERPLATE.contains(l)).findFirst()
                .map(l -> "\"" + l + "\"").orElse("java exited with status " + exitCode);
    }

    /**
     * Options whose effect outlives the check: an -Xlog file is opened, and so rotated (the running workers' GC
     * log moves to .0) or created anew for a %p; a flight recording or a CDS dump is written at exit. The
     * workers report their own failures with these.
     */
    static boolean hasSideEffects(String option) {
        return (option.startsWith("-Xlog:") && option.contains("file=")) || option.startsWith("-Xloggc:")
                || option.startsWith("-XX:StartFlightRecording") || option.startsWith("-XX:ArchiveClassesAtExit")
                || option.startsWith("-Xshare:dump");
    }
}
