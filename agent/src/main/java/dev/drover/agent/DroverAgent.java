package dev.drover.agent;

import dev.drover.link.ExitCodes;
import java.io.File;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.InvocationTargetException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;

/**
 * The agent's entry: installs the server class rewriter, then starts the worker's link side (the worker runtime, in
 * a class loader of its own) or, for an AppCDS training run, exits once the app is ready. Kept cheap: it runs before
 * the app's main.
 */
public final class DroverAgent {
    static final String FOREIGN_MAIN = "dev.drover.worker.runtime.ForeignMain";

    private DroverAgent() {
    }

    public static void premain(String args, Instrumentation instrumentation) {
        instrumentation.addTransformer(new ServerClassTransformer());
        if ("1".equals(System.getenv("DROVER_INTERNAL_TRAINING"))) {
            exitWhenReady();
            return;
        }
        String runtime = System.getenv("DROVER_INTERNAL_RUNTIME_CLASSPATH");
        if (runtime != null && !runtime.isEmpty()) {
            Thread starter = new Thread(new LinkStarter(runtime), "drover-link-start");
            starter.setDaemon(true);
            starter.start();
        } // else: the agent alone (its own tests): nothing drives the server but ServerView's callers
    }

    /**
     * The worker runtime sees the JDK and this agent (boot class path) and its own jars, never the app's classes:
     * the app's own Netty, slf4j or ASM never meet Drover's.
     */
    private static void startLinkSide(String runtime) {
        try {
            ClassLoader loader = new URLClassLoader("drover-runtime", urls(runtime),
                    ClassLoader.getPlatformClassLoader());
            Thread.currentThread().setContextClassLoader(loader); // the runtime's threads inherit it
            Class.forName(FOREIGN_MAIN, true, loader).getMethod("start").invoke(null);
        } catch (ClassNotFoundException e) {
            fail(FOREIGN_MAIN + " is not in DROVER_INTERNAL_RUNTIME_CLASSPATH (" + runtime + "): the worker"
                    + " runtime's jars are missing; check that DROVER_HOME holds a built Drover");
        } catch (InvocationTargetException e) {
            fail("the worker runtime failed to start: " + e.getCause());
        } catch (ReflectiveOperationException | MalformedURLException | RuntimeException | LinkageError e) {
            fail("the worker runtime could not be loaded from DROVER_INTERNAL_RUNTIME_CLASSPATH (" + runtime + "): "
                    + e);
        }
    }

    /** A class, not a lambda: premain stays clear of java.lang.invoke's set-up cost (see ServerClassTransformer). */
    private static final class LinkStarter implements Runnable {
        private final String runtime;

        LinkStarter(String runtime) {
            this.runtime = runtime;
        }

        @Override
        public void run() {
            startLinkSide(runtime);
        }
    }

    private static URL[] urls(String classpath) throws MalformedURLException {
        List<URL> urls = new ArrayList<>();
        for (String entry : classpath.split(File.pathSeparator)) {
            if (!entry.isEmpty()) {
                urls.add(new File(entry).toURI().toURL());
            }
        }
        return urls.toArray(new URL[0]);
    }

    /**
     * An AppCDS training run: no master, no link. Once ready, run the warm-up if the environment asks for one (the
     * classes its requests load go into the archive), open the gate (so that the accept path's classes load too)
     * and exit 0: the JVM writes the archive at exit. On another thread: the readiness may complete inside a
     * server's start, which the exit's shutdown hooks may want to stop.
     */
    private static void exitWhenReady() {
        ServerState.INSTANCE.readiness.future().whenComplete((server, refused) -> {
            Thread exit = new Thread(() -> {
                if (refused != null) {
                    System.err.println("drover worker: " + refused.getMessage());
                    System.exit(ExitCodes.UNSUPPORTED_SERVER);
                }
                try {
                    trainingWarmUp();
                } catch (RuntimeException e) { // the archive is still worth writing without it
                    System.err.println("drover training run: the warm-up failed: " + e);
                }
                ServerState.INSTANCE.startAccepting();
                System.exit(ExitCodes.OK);
            }, "drover-training-exit");
            exit.start();
        });
    }

    /** The same warm-up as a worker's, from the same DROVER_INTERNAL_WARMUP_* variables, when they are set. */
    private static void trainingWarmUp() {
        String count = System.getenv("DROVER_INTERNAL_WARMUP_REQUESTS");
        if (count == null || count.isEmpty() || Integer.parseInt(count) <= 0) {
            return;
        }
        String paths = System.getenv().getOrDefault("DROVER_INTERNAL_WARMUP_PATHS", "GET /");
        String limit = System.getenv().getOrDefault("DROVER_INTERNAL_WARMUP_TIME_LIMIT_MS", "10000");
        WarmUpReport report = ServerState.INSTANCE.warmUp(Integer.parseInt(count), List.of(paths.split("\n")),
                Long.parseLong(limit));
        System.out.println("drover training run: " + report);
    }

    private static void fail(String reason) {
        System.err.println("drover agent: " + reason);
        System.exit(ExitCodes.LINK_ERROR);
    }
}
