package dev.drover.agent;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tomcat's requests in flight, keyed by the connection's {@code org.apache.coyote.Request} (one per connection
 * processor, reused for the next request once this one is recycled). A request begins at CoyoteAdapter.service.
 * It ends when service returns, unless the servlet started async processing: then it ends when an
 * CoyoteAdapter.asyncDispatch returns with the request no longer async (complete(), a dispatch that finished, a
 * timeout or an error all come through it), so async requests count as in flight until they complete.
 */
final class TomcatRequests {
    private static final Map<Object, RequestCounter.InFlight> INFLIGHT = new ConcurrentHashMap<>();
    private static volatile Method getNote;
    private static volatile int adapterNote;
    private static volatile Method isAsync;
    /** coyote Request.method() and requestURI() (the path, never the query): read only when asked, at a ceiling. */
    private static volatile Method methodOf;
    private static volatile Method pathOf;
    private static volatile Method getResponse;
    private static volatile Method getStatus;

    private TomcatRequests() {
    }

    /**
     * Looks up the members that tell an async request and the response's status (called once, when Tomcat's first
     * connector is created).
     */
    static void lookUp(Class<?> connectorClass) {
        if (isAsync != null) {
            return;
        }
        Class<?> coyoteRequest = Members.classNamed("org.apache.coyote.Request", connectorClass);
        getNote = Members.method(coyoteRequest, "getNote", int.class);
        Field note = Members.field(Members.classNamed("org.apache.catalina.connector.CoyoteAdapter",
                connectorClass), "ADAPTER_NOTES");
        adapterNote = (int) Members.get(note, null);
        getResponse = Members.method(coyoteRequest, "getResponse");
        getStatus = Members.method(Members.classNamed("org.apache.coyote.Response", connectorClass), "getStatus");
        isAsync = Members.method(Members.classNamed("org.apache.catalina.connector.Request", connectorClass),
                "isAsync");
        try {
            methodOf = Members.method(coyoteRequest, "method");
            pathOf = Members.method(coyoteRequest, "requestURI");
        } catch (Members.MissingMember e) {
            // another Tomcat: its requests in flight are counted, not named
        }
    }

    /**
     * The requests in flight: {method, path without query, age in ms} each; null when this Tomcat's requests cannot
     * be read. Racy by nature (a request may end meanwhile): a snapshot for a report, not bookkeeping.
     */
    static List<String[]> inflight() {
        Method method = methodOf;
        Method path = pathOf;
        if (method == null || path == null) {
            return null;
        }
        List<String[]> seen = new ArrayList<>();
        for (Map.Entry<Object, RequestCounter.InFlight> e : INFLIGHT.entrySet()) {
            try {
                seen.add(new String[] {String.valueOf(method.invoke(e.getKey())),
                        String.valueOf(path.invoke(e.getKey())), Long.toString(e.getValue().ageMillis())});
            } catch (ReflectiveOperationException | RuntimeException failed) {
                return null;
            }
        }
        return seen;
    }

    static void begins(Object coyoteRequest, RequestCounter counter) {
        RequestCounter.InFlight previous = INFLIGHT.put(coyoteRequest, counter.begin());
        if (previous != null) {
            // Tomcat reused the request object, so the earlier request is over even though no hook saw its end
            // (an async request ended on a path this class does not watch): never count it in flight for good.
            previous.run();
        }
    }

    /** service or asyncDispatch returned: the request ends unless it is (still) asynchronous. */
    static void returned(Object coyoteRequest) {
        if (!isAsync(coyoteRequest)) {
            ends(coyoteRequest);
        }
    }

    static void ends(Object coyoteRequest) {
        RequestCounter.InFlight request = INFLIGHT.remove(coyoteRequest);
        if (request != null) {
            request.end(status(coyoteRequest));
        }
    }

    /** The coyote Response's status once service (or the async completion) is through; 0 when unreadable. */
    private static int status(Object coyoteRequest) {
        Method response = getResponse;
        Method status = getStatus;
        if (response == null || status == null) {
            return 0;
        }
        try {
            return (int) status.invoke(response.invoke(coyoteRequest));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return 0;
        }
    }

    private static boolean isAsync(Object coyoteRequest) {
        Method asyncTest = isAsync;
        if (asyncTest == null) {
            return false;
        }
        try {
            Object request = getNote.invoke(coyoteRequest, adapterNote);
            return request != null && (boolean) asyncTest.invoke(request);
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }
}
