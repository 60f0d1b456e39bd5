package dev.drover.agent;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The one state of the agent in this JVM: the connectors it drives (the first one adopts fd 0, any other is
 * refused), the request counter, the accept gate, readiness and the drain. Hooks feed it; ServerView reads it.
 */
final class ServerState {
    static final ServerState INSTANCE = new ServerState();
    /** After the acceptor stops: time for a request already on its way over a keep-alive connection. */
    static final long GRACE_NANOS = 1_000_000_000L;

    final RequestCounter requests = new RequestCounter(System::nanoTime);
    final AcceptGate gate = new AcceptGate();
    final Readiness readiness = new Readiness();
    private final Map<Object, DrivenConnector> connectors = new IdentityHashMap<>();
    private DrivenConnector adopted;
    private CompletableFuture<Void> drain;

    /** A connector was constructed (perhaps once per constructor in a this(...) chain): the first adopts fd 0. */
    synchronized void connectorCreated(Object connector, Function<Object, DrivenConnector> lookUp) {
        if (connectors.containsKey(connector)) {
            return;
        }
        DrivenConnector driven = lookUp.apply(connector);
        connectors.put(connector, driven);
        if (adopted == null) {
            adopted = driven;
            try {
                driven.adoptInheritedChannel();
            } catch (ReflectiveOperationException e) {
                throw new ServerRefusedException(driven.server() + ": telling its connector to use the inherited"
                        + " channel failed: " + e.getCause());
            }
        }
    }

    /** A connector has its listener: the adopted one must hold fd 0's socket; any other is a second server. */
    void connectorListening(Object connector) {
        DrivenConnector driven = known(connector);
        if (driven == null) {
            return;
        }
        if (driven != adopted()) {
            throw secondConnector(driven);
        }
        driven.verifyAdopted();
        readiness.connectorListening(driven.server() + " on the inherited socket ("
                + Fd0.describe(Fd0.inheritedChannel()) + ")");
    }

    /** A connector failed to start: if it is the adopted one, fd 0 was probably no listener. */
    void connectorFailed(Object connector, Throwable failure) {
        DrivenConnector driven = known(connector);
        if (driven == null) {
            return;
        }
        if (driven != adopted()) {
            throw secondConnector(driven);
        }
        throw new ServerRefusedException(driven.server() + "'s connector failed to start on the socket passed on fd 0"
                + " (" + Fd0.describe(Fd0.inheritedChannel()) + "): " + failure
                + "; start the worker with the shared listener as its standard input");
    }

    /** The server's start returned (Tomcat's StandardServer, Jetty's Server): ready, unless Spring Boot runs. */
    void serverStarted() {
        DrivenConnector driven = adopted();
        if (driven != null) { // else a server without a connector of ours (Jetty's LocalConnector, say): not ours
            readiness.serverStarted(driven.server() + " started without its connector (port " + driven.configuredPort()
                    + ") listening on the socket passed on fd 0 (" + Fd0.describe(Fd0.inheritedChannel()) + "): start"
                    + " the worker with the shared listener as its standard input");
        }
    }

    /**
     * Runs the warm-up ({@link WarmUp}) once the app is ready and before the gate opens. Requests that begin from
     * here until the gate opens are warm-up requests: none can come from the shared socket while the acceptors wait
     * at the gate, so the counter leaves them out of the count without telling them apart one by one.
     */
    WarmUpReport warmUp(int count, List<String> paths, long timeLimitMillis) {
        if (gate.isOpen()) {
            throw new IllegalStateException("the warm-up runs before the accept gate opens, and it is open");
        }
        CompletableFuture<String> ready = readiness.future();
        if (!ready.isDone() || ready.isCompletedExceptionally()) {
            return WarmUpReport.skipped("the app is not ready");
        }
        requests.warmingUp(true);
        return new WarmUp(adopted(), count, paths, timeLimitMillis).run();
    }

    /** Opens the accept gate; requests that begin from now on count. */
    void startAccepting() {
        requests.warmingUp(false);
        gate.open();
    }

    int connections() {
        DrivenConnector driven = adopted();
        return driven == null ? -1 : driven.connections();
    }

    synchronized CompletableFuture<Void> drain(long graceNanos) {
        if (drain == null) {
            drain = new CompletableFuture<>();
            Thread drainer = new Thread(() -> runDrain(graceNanos), "drover-drain");
            drainer.setDaemon(true);
            drainer.start();
        }
        return drain;
    }

    private void runDrain(long graceNanos) {
        boolean accepted = gate.isOpen();
        DrivenConnector driven = adopted();
        try {
            if (driven != null) {
                driven.stopAccepting();
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            System.err.println("drover agent: stopping " + driven.server() + "'s acceptor failed: " + e
                    + "; waiting for the requests in flight all the same");
        }
        startAccepting(); // acceptors still held at the gate find their connector stopped and end without accept()
        try {
            awaitQuiet(accepted ? System.nanoTime() + graceNanos : System.nanoTime());
            drain.complete(null);
        } catch (InterruptedException e) {
            drain.completeExceptionally(e);
        }
    }

    /** Until no request is in flight and the grace (nothing ever accepted: none) has passed. */
    private void awaitQuiet(long graceEnd) throws InterruptedException {
        while (true) {
            requests.awaitIdle(Long.MAX_VALUE);
            long left = graceEnd - System.nanoTime();
            if (left <= 0 && requests.inflight() == 0) {
                return;
            }
            Thread.sleep(Math.max(1, Math.min(20, left / 1_000_000)));
        }
    }

    private static ServerRefusedException secondConnector(DrivenConnector driven) {
        return new ServerRefusedException("the app opens a second " + driven.server() + " connector (port "
                + driven.configuredPort() + ") besides the one on the service's socket, and a Drover worker serves"
                + " exactly one socket: set management.server.port to the service's port or remove it (Spring Boot),"
                + " or remove the additional connector");
    }

    private synchronized DrivenConnector known(Object connector) {
        return connectors.get(connector);
    }

    private synchronized DrivenConnector adopted() {
        return adopted;
    }
}
