package dev.drover.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Drover master started through scripts/drover, as a user would: captures its output, waits for log lines
 * with deadlines, and on close kills the master and every worker it ever saw, even the orphans of a killed master.
 */
final class DroverProcess implements AutoCloseable {

    static final Path HOME = Path.of(System.getProperty("drover.home", "..")).toAbsolutePath().normalize();
    static final Path LAUNCHER = HOME.resolve("scripts/drover");
    /**
     * The sample app: an app like any other, found only through its classpath. Every start gets it as
     * DROVER_CLASSPATH, as a user would export it; the test's own env (DROVER_CLASSPATH = "" for none) or
     * --classpath replaces it. A classpath in a config file does not: the environment wins over the file.
     */
    static final Path SAMPLE_JAR = HOME.resolve("sample-app/target/sample-app.jar");
    /** The line a master logs for every worker it starts: the pids it is responsible for. */
    private static final Pattern PID = Pattern.compile(
            "\\] (?:worker \\d+ \\(pid (\\d+), gen \\d+\\)|standby JVM \\(pid (\\d+)\\)) spawned");
    private static final Pattern LISTENING = Pattern.compile("listening on http://([0-9.]+):(\\d+)");

    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final Set<Long> seenPids = new HashSet<>();
    private final Thread reader;
    /** False for a master in a pid namespace of its own: the pids it logs are not this namespace's. */
    private boolean logsOwnPids = true;

    private DroverProcess(Process process) {
        this.process = process;
        this.reader = new Thread(this::pump, "drover-output-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    static DroverProcess start(List<String> args) throws IOException {
        return start(args, Map.of());
    }

    static DroverProcess start(List<String> args, Map<String, String> env) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(LAUNCHER.toString());
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("DROVER_NO_BUILD", "1");
        builder.environment().put("DROVER_CLASSPATH", SAMPLE_JAR.toString());
        builder.environment().putAll(env);
        return new DroverProcess(builder.start());
    }

    /** Starts a wrapper (such as a script that sets up fds, then execs the launcher) instead of the launcher. */
    static DroverProcess start(ProcessBuilder builder) throws IOException {
        builder.redirectErrorStream(true).environment().put("DROVER_NO_BUILD", "1");
        builder.environment().putIfAbsent("DROVER_CLASSPATH", SAMPLE_JAR.toString());
        return new DroverProcess(builder.start());
    }

    /** Starts exactly what the builder says, with its environment untouched: another installation's launcher. */
    static DroverProcess startAsIs(ProcessBuilder builder) throws IOException {
        return new DroverProcess(builder.redirectErrorStream(true).start());
    }

    /**
     * {@link #start(ProcessBuilder)} for a wrapper that runs the master in a pid namespace of its own (unshare):
     * the worker pids in its log mean nothing here, so close() ends the wrapper's process tree alone.
     */
    static DroverProcess startInPidNamespace(ProcessBuilder builder) throws IOException {
        DroverProcess p = start(builder);
        p.logsOwnPids = false;
        return p;
    }

    /** Runs the launcher to completion (for --check-config, ctl and bad configurations). */
    static Result run(List<String> args, Map<String, String> env, Duration timeout) throws Exception {
        try (DroverProcess p = start(args, env)) {
            if (!p.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                fail("drover " + args + " did not exit within " + timeout + "; output:\n" + p.output());
            }
            p.reader.join(5000);
            return new Result(p.process.exitValue(), p.output(), p.spawnedAnyWorker());
        }
    }

    record Result(int exitCode, String output, boolean spawnedAnyWorker) {
    }

    private void pump() {
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                synchronized (lines) {
                    lines.add(line);
                    Matcher m = PID.matcher(line);
                    while (m.find()) {
                        seenPids.add(Long.parseLong(m.group(1) != null ? m.group(1) : m.group(2)));
                    }
                    lines.notifyAll();
                }
            }
        } catch (IOException e) {
            // the process ended
        }
    }

    long pid() {
        return process.pid();
    }

    Process process() {
        return process;
    }

    String output() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    boolean spawnedAnyWorker() {
        return output().contains(") spawned");
    }

    /** Waits for a line matching {@code regex} at or after line {@code from}; returns its matcher. */
    Matcher awaitLine(String regex, int from, Duration timeout) throws InterruptedException {
        Pattern pattern = Pattern.compile(regex);
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lines) {
            int next = from;
            while (true) {
                for (; next < lines.size(); next++) {
                    Matcher m = pattern.matcher(lines.get(next));
                    if (m.find()) {
                        return m;
                    }
                }
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    fail("no line matching /" + regex + "/ within " + timeout + "; output:\n" + String.join("\n", lines));
                }
                lines.wait(Math.min(left, 200));
            }
        }
    }

    Matcher awaitLine(String regex, Duration timeout) throws InterruptedException {
        return awaitLine(regex, 0, timeout);
    }

    int lineCount() {
        synchronized (lines) {
            return lines.size();
        }
    }

    long countLines(String regex) {
        Pattern pattern = Pattern.compile(regex);
        synchronized (lines) {
            return lines.stream().filter(l -> pattern.matcher(l).find()).count();
        }
    }

    /** Waits until the master listens and {@code workers} workers are ready; returns the TCP port. */
    int awaitServing(int workers, Duration timeout) throws InterruptedException {
        Matcher m = awaitLine(LISTENING.pattern(), timeout);
        int port = Integer.parseInt(m.group(2));
        awaitCondition("" + workers + " workers ready", timeout, () -> countLines(" ready in \\d+ ms") >= workers);
        return port;
    }

    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            fail("the master did not exit within " + timeout + "; output:\n" + output());
        }
        reader.join(5000);
        return process.exitValue();
    }

    /** Every worker pid this master has spawned, alive or not. */
    Set<Long> workerPids() {
        synchronized (lines) {
            Set<Long> pids = new HashSet<>(logsOwnPids ? seenPids : Set.of());
            pids.remove(process.pid());
            return pids;
        }
    }

    static void awaitCondition(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out after " + timeout + " waiting for: " + what);
            }
            Thread.sleep(50); // the poll interval of a condition with a deadline
        }
    }

    /** Alive and not a zombie: orphans are reaped by PID 1 in its own time, and a zombie runs nothing. */
    static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    /** Kills the master, its descendants and every worker it logged; waits until they are gone. */
    @Override
    public void close() throws InterruptedException {
        Set<Long> pids = workerPids();
        process.toHandle().descendants().forEach(h -> pids.add(h.pid()));
        pids.add(process.pid());
        for (long pid : pids) {
            // Only ours: a logged pid that died may since have been reused by somebody else's process.
            ProcessHandle.of(pid).filter(h -> pid == process.pid() || isDroverJvm(h))
                    .ifPresent(ProcessHandle::destroyForcibly);
        }
        awaitCondition("every process of this master gone", Duration.ofSeconds(10),
                () -> pids.stream().noneMatch(DroverProcess::alive));
        reader.join(2000);
    }

    /** A master or native worker (dev.drover.* classes), or a jar or main-class app's worker (Drover's agent). */
    static boolean isDroverJvm(ProcessHandle h) {
        return h.info().commandLine().map(c -> c.contains("dev.drover.") || c.contains("drover-agent")).orElse(false);
    }

    static Path tempDir(String prefix) throws IOException {
        return Files.createTempDirectory(prefix);
    }
}
