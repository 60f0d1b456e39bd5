package dev.drover.agent.it;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

/**
 * An ordinary embedded Jetty 12 app that knows nothing of Drover: binds the port it is given (args[0]) and, with a
 * second argument, a second connector on that port. GET /hello, /sleep?ms=N, /async?ms=N (completes later on
 * another thread) answer "hello from child I"; /hits counts its requests by the local port they came in on.
 */
public final class JettyApp {

    public static void main(String[] args) throws Exception {
        Server server = new Server();
        addConnector(server, Integer.parseInt(args[0]));
        if (args.length > 1) {
            addConnector(server, Integer.parseInt(args[1]));
        }
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                if (request.getHttpURI().getPath().equals("/hits")) {
                    response.write(true, ByteBuffer.wrap(Hits.count(Request.getLocalPort(request))
                            .getBytes(StandardCharsets.UTF_8)), callback);
                    return true;
                }
                Fields query = Request.extractQueryParameters(request);
                long ms = query.get("ms") == null ? 0 : Long.parseLong(query.get("ms").getValue());
                if (request.getHttpURI().getPath().equals("/async")) {
                    new Thread(() -> {
                        TomcatApp.sleep(ms);
                        answer(response, callback);
                    }).start();
                } else {
                    TomcatApp.sleep(ms);
                    answer(response, callback);
                }
                return true;
            }
        });
        server.start();
        server.join();
    }

    private static void addConnector(Server server, int port) {
        ServerConnector connector = new ServerConnector(server);
        connector.setPort(port);
        server.addConnector(connector);
    }

    private static void answer(Response response, Callback callback) {
        byte[] body = ("hello from child " + System.getenv("DROVER_TEST_CHILD")).getBytes(StandardCharsets.UTF_8);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }
}
