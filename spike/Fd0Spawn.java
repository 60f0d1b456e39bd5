import java.io.InputStream;
import java.lang.ProcessBuilder.Redirect;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/**
 * Spike (issue 12): the recommended route in the master's own language. The master (a JVM, like Drover's) binds a
 * socket, then for each spawn puts it on its own fd 0 for the length of ProcessBuilder.start() with stdin INHERIT,
 * and puts its own stdin back: each worker starts with the shared socket on fd 0 and no native code of its own.
 *
 * java --add-opens java.base/sun.nio.ch=ALL-UNNAMED -cp JNR_JARS Fd0Spawn N AGENT_JAR JAVA_ARGS...
 */
public class Fd0Spawn {
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0), 512);
        int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
        int fd = (int) Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal").invoke(listener);
        POSIX posix = POSIXFactory.getNativePOSIX();
        List<Process> workers = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            List<String> cmd = new ArrayList<>(List.of("java", "-javaagent:" + args[1]));
            cmd.addAll(List.of(args).subList(2, args.length));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(Redirect.INHERIT).redirectOutput(Redirect.DISCARD)
                    .redirectError(Redirect.INHERIT);
            // One spawner thread in the real master; the window is the length of start() (the child is forked and
            // exec'd with fd 0 in it by then).
            int saved = posix.dup(0);
            posix.dup2(fd, 0);
            try {
                workers.add(pb.start());
            } finally {
                posix.dup2(saved, 0);
                posix.close(saved);
            }
        }
        System.err.printf("Fd0Spawn: master pid %d spawned %d workers on 127.0.0.1:%d in %d ms; master fd 0 is %s again%n",
                ProcessHandle.current().pid(), n, port, (System.nanoTime() - t0) / 1_000_000,
                java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/0")));
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        Map<String, Integer> seen = new TreeMap<>();
        long deadline = System.nanoTime() + 60_000_000_000L;
        try {
            while (seen.size() < n && System.nanoTime() < deadline) {
                seen.clear();
                for (int i = 0; i < 40; i++) {
                    // A fresh client per request: a new connection each time, so the kernel picks the worker.
                    String body = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                            .send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hello")).build(),
                                    HttpResponse.BodyHandlers.ofString()).body().strip();
                    seen.merge(body, 1, Integer::sum);
                }
            }
            System.err.println("Fd0Spawn: 40 fresh connections: " + seen);
        } finally {
            workers.forEach(Process::destroy);
            for (Process w : workers) {
                w.waitFor();
            }
        }
    }
}
