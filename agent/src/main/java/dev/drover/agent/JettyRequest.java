package dev.drover.agent;

import java.lang.reflect.Method;

/**
 * One Jetty request in flight: the completion of its callback ends it with the status its Response has by then (the
 * status the client was sent, or is being sent). Jetty's twin of {@link TomcatRequests}.
 */
final class JettyRequest implements Runnable {
    private static volatile Method getStatus;
    private final RequestCounter.InFlight inflight;
    private final Object response;

    JettyRequest(RequestCounter.InFlight inflight, Object response) {
        this.inflight = inflight;
        this.response = response;
    }

    /** The callback completed, successfully or not. */
    @Override
    public void run() {
        inflight.end(status(response));
    }

    /** Ends the request with a status the hook knows (404 when no handler took it). */
    void end(int status) {
        inflight.end(status);
    }

    /** Response.getStatus(), or 0 when it cannot be read: a request must end whatever the status lookup does. */
    private static int status(Object response) {
        try {
            Method method = getStatus;
            if (method == null) {
                method = Members.method(Members.classNamed("org.eclipse.jetty.server.Response", response.getClass()),
                        "getStatus");
                getStatus = method;
            }
            return (int) method.invoke(response);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return 0;
        }
    }
}
