package dev.drover.supervisor.config;

import dev.drover.supervisor.os.Children;
import dev.drover.supervisor.systemd.SystemdEnvironment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Asks the workers' own java whether it accepts drover.worker-jvm-options, by starting it with them and -version,
 * so that an option it refuses is a config error with the JVM's own words, not a worker that fails to boot. A JVM
 * start is 25 ms on an idle machine but 440-581 ms on 2 cores busy serving (docs/BENCHMARKS.md, "Reloads with
 * standby JVMs, second pass"), so an accepted set of options is remembered with the stamps of the java binary and of
 * every file the options name (an agent's jar, an @argfile, a boot class path): a reload with the same options and
 * the same files does not start a JVM again, and one whose agent jar was replaced does (or was written in the last
 * seconds: FileStamp.settled).
 */
final class JvmOptionsCheck {

    /** The binary WorkerSpawner starts workers with: the master's own Java. */
    static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");
    private static final long TIME_LIMIT_SECONDS = 20;
    /** What the launcher says after every refusal: not the reason, so not worth quoting. */
    private static final Set<String> BOILERPLATE = Set.of("Error occurred during initialization of VM",
            "Error: Could not create the Java Virtual Machine.",
            "Error: A fatal exception has occurred. Program will exit.");
    /** Options the JVM accepted, with the stamps of the files they named then. */
    private static final Map<List<String>, List<FileStamp>> ACCEPTED = new ConcurrentHashMap<>();
    private static final int REMEMBERED = 16;
    /** How many JVMs the check started: for the tests of what it remembers. */
    static final AtomicInteger STARTS = new AtomicInteger();

    private JvmOptionsCheck() {
    }

    /** The JVM's complaint about {@code options} (its first line that says why), or empty if it starts. */
    static Optional<String> complaint(List<String> options) {
        List<FileStamp> named = namedFiles(options);
        if (named.equals(ACCEPTED.get(options))) {
            return Optional.empty();
        }
        Verdict verdict = ask(options);
        if (verdict.accepted() && named.stream().allMatch(FileStamp::settled)) {
            if (ACCEPTED.size() >= REMEMBERED) {
                ACCEPTED.clear(); // options that changed at every reload: start over rather than grow
            }
            ACCEPTED.put(List.copyOf(options), named);
        }
        return verdict.complaint();
    }

    /**
     * The java binary, its module image, and every regular file an option names: {@code @argfile}, and the parts of
     * an option split at {@code : = , ;} (-javaagent:JAR=ARGS, -agentpath:LIB, -Xbootclasspath/a:A:B,
     * -XX:SharedArchiveFile=F, -Dkey=FILE) that are files; what is no file is no part of the verdict, nor is an
     * option the check leaves out ({@link #hasSideEffects}: a GC log the running workers write to would otherwise
     * change at every reload and make the check run every time).
     */
    static List<FileStamp> namedFiles(List<String> options) {
        List<FileStamp> stamps = new ArrayList<>();
        FileStamp.of(JAVA).ifPresent(stamps::add);
        FileStamp.of(JAVA.getParent().resolveSibling("lib").resolve("modules")).ifPresent(stamps::add);
        for (String option : options) {
            if (hasSideEffects(option)) {
                continue; // not given to the check's JVM (a GC log the workers write to is no part of the verdict)
            }
            if (option.startsWith("@")) {
                FileStamp.of(option.substring(1)).ifPresent(stamps::add);
                continue;
            }
            for (String part : option.split("[:=,;]")) {
                if (!part.startsWith("-")) {
                    FileStamp.of(part).ifPresent(stamps::add);
                }
            }
        }
        return stamps;
    }

    /** What one start of the JVM said: accepted, refused (with why), or nothing known (it could not be asked). */
    private record Verdict(boolean accepted, Optional<String> complaint) {
        static final Verdict UNKNOWN = new Verdict(false, Optional.empty());
    }

    private static Verdict ask(List<String> options) {
        List<String> command = new ArrayList<>();
        command.add(JAVA.toString());
        options.stream().filter(o -> !hasSideEffects(o)).forEach(command::add);
        // Touching every page of a big -Xms would make the check as slow and as large as the heap.
        command.add("-XX:-AlwaysPreTouch");
        command.add("-version");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            SystemdEnvironment.scrub(builder.environment());
            STARTS.incrementAndGet();
            Process java = Children.start(builder::start);
            java.getOutputStream().close();
            // Read on the side: options that print a lot (-XX:+PrintFlagsFinal) would otherwise fill the pipe.
            CompletableFuture<byte[]> output = CompletableFuture.supplyAsync(() -> readAll(java));
            if (!java.waitFor(TIME_LIMIT_SECONDS, TimeUnit.SECONDS)) {
                java.destroyForcibly();
                return Verdict.UNKNOWN; // the workers' start will tell
            }
            return java.exitValue() == 0 ? new Verdict(true, Optional.empty()) : new Verdict(false, Optional.of(
                    firstReason(new String(output.get(TIME_LIMIT_SECONDS, TimeUnit.SECONDS), StandardCharsets.UTF_8),
                            java.exitValue())));
        } catch (IOException e) {
            return new Verdict(false, Optional.of("cannot run " + JAVA + ": " + e.getMessage()));
        } catch (ExecutionException | TimeoutException e) {
            return Verdict.UNKNOWN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Verdict.UNKNOWN;
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
