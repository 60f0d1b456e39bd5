package dev.drover.agent.it;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Child JVMs running an app under -javaagent:target/drover-agent.jar, all with one listening socket on their fd 0
 * (fd0_launcher.py binds it), each driven through the test stand-in ForeignMain's control line. Closing kills every
 * process it started.
 */
final class ChildJvms implements AutoCloseable {
    /** The module's target directory, found from this class (the tests' working directory varies). */
    private static final Path TARGET = testClassesDir().getParent();
    private final Process launcher;
    private final int sharedPort;
    private final List<Child> children = new ArrayList<>();
    private final ServerSocket control;
    final Path logDir;

    private ChildJvms(Process launcher, ServerSocket control, Path logDir) throws IOException {
        this.launcher = launcher;
        this.control = control;
        this.logDir = logDir;
        BufferedReader out = new BufferedReader(
                new InputStreamReader(launcher.getInputStream(), StandardCharsets.UTF_8));
        String port = out.readLine();
        if (port == null) {
            throw new IOException("fd0_launcher.py printed no port: "
                    + new String(launcher.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        }
        sharedPort = Integer.parseInt(port.trim());
    }

    /** Starts {@code count} copies of {@code mainClass} with {@code appArgs}; fd 0 the shared listener or /dev/null. */
    static ChildJvms start(int count, boolean listener, Map<String, String> env, Class<?> mainClass, String... appArgs)
            throws IOException {
        ServerSocket control = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Path logDir = Files.createDirectories(TARGET.resolve("child-logs"))
                .resolve(mainClass.getSimpleName() + "-" + System.nanoTime());
        Files.createDirectories(logDir);
        List<String> command = new ArrayList<>(List.of("python3", launcherScript(), String.valueOf(count),
                logDir.toString(), listener ? "listener" : "devnull", javaBin(), "-XX:TieredStopAtLevel=1",
                "-javaagent:" + TARGET.resolve("drover-agent.jar"), "-cp", appClasspath(),
                mainClass.getName()));
        command.addAll(Arrays.asList(appArgs));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("DROVER_TEST_CONTROL", String.valueOf(control.getLocalPort()));
        builder.environment().put("DROVER_INTERNAL_RUNTIME_CLASSPATH", testClasses());
        builder.environment().putAll(env);
        builder.environment().values().removeIf(String::isEmpty); // an empty value in env means: unset it
        return new ChildJvms(builder.start(), control, logDir);
    }

    /** Waits for the children's control lines (the agent's link side has started in each). */
    ChildJvms attach(int count) throws IOException {
        control.setSoTimeout(60_000);
        for (int i = 0; i < count; i++) {
            children.add(new Child(control.accept()));
        }
        children.sort((a, b) -> Integer.compare(a.index, b.index));
        return this;
    }

    int sharedPort() {
        return sharedPort;
    }

    Child child(int index) {
        return children.get(index);
    }

    /** The launcher's exit code: the highest of its children's. */
    int awaitExit(long timeoutMillis) throws InterruptedException {
        if (!launcher.waitFor(timeoutMillis, java.util.concurrent.TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the child JVMs did not exit within " + timeoutMillis + " ms; logs in " + logDir);
        }
        return launcher.exitValue();
    }

    String log(int index) throws IOException {
        return Files.readString(logDir.resolve("child-" + index + ".log"));
    }

    @Override
    public void close() throws IOException {
        launcher.descendants().forEach(ProcessHandle::destroyForcibly);
        launcher.destroyForcibly();
        control.close();
    }

    /** One child's control line. */
    static final class Child {
        private final Socket socket;
        private final BufferedReader in;
        private final PrintWriter out;
        final int index;

        Child(Socket socket) throws IOException {
            this.socket = socket;
            socket.setSoTimeout(90_000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            out = new PrintWriter(socket.getOutputStream(), true, StandardCharsets.UTF_8);
            index = Integer.parseInt(in.readLine().split(" ")[1]);
        }

        synchronized String call(String command) throws IOException {
            out.println(command);
            String answer = in.readLine();
            if (answer == null) {
                throw new IOException("child " + index + " closed its control line on '" + command + "'");
            }
            return answer;
        }

        /** ServerView's counters: requests, inflight, oldest, connections. */
        Map<String, Long> stats() throws IOException {
            return Arrays.stream(call("stats").split(" ")).map(kv -> kv.split("="))
                    .collect(Collectors.toMap(kv -> kv[0], kv -> Long.parseLong(kv[1])));
        }

        void exit() {
            out.println("exit");
        }
    }

    private static String launcherScript() {
        try {
            return Path.of(ChildJvms.class.getResource("/fd0_launcher.py").toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The test's class path without the agent's own classes: the child must get them from the agent jar only. */
    private static String appClasspath() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !Path.of(entry).toAbsolutePath().equals(TARGET.resolve("classes")))
                .filter(entry -> !entry.endsWith("drover-agent.jar"))
                .collect(Collectors.joining(File.pathSeparator));
    }

    private static String testClasses() {
        return testClassesDir().toString();
    }

    private static Path testClassesDir() {
        try {
            return Path.of(ChildJvms.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .toAbsolutePath();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
