package dev.drover.agent.it;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

/**
 * An ordinary embedded Tomcat app that knows nothing of Drover: binds the port it is given (args[0]) and, with a
 * second argument, a second connector on that port. GET /hello, /sleep?ms=N, /async?ms=N (completes later on
 * another thread) answer "hello from child I"; /hits counts its requests by the local port they came in on.
 */
public final class TomcatApp {

    public static void main(String[] args) throws Exception {
        Tomcat tomcat = new Tomcat();
        File base = Files.createTempDirectory("tomcat-app").toFile();
        base.deleteOnExit();
        tomcat.setBaseDir(base.getPath());
        tomcat.setPort(Integer.parseInt(args[0]));
        tomcat.getConnector();
        if (args.length > 1) {
            Connector second = new Connector();
            second.setPort(Integer.parseInt(args[1]));
            tomcat.getService().addConnector(second);
        }
        Context context = tomcat.addContext("", base.getPath());
        Tomcat.addServlet(context, "app", new AppServlet()).setAsyncSupported(true);
        context.addServletMappingDecoded("/*", "app");
        tomcat.start();
        tomcat.getServer().await();
    }

    static final class AppServlet extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            if (request.getRequestURI().equals("/hits")) {
                String hits = Hits.count(request.getLocalPort());
                response.getWriter().print(hits.substring(0, 4));
                response.flushBuffer(); // committed before its end: chunked, where Jetty's answer has a length
                response.getWriter().print(hits.substring(4));
                return;
            }
            long ms = request.getParameter("ms") == null ? 0 : Long.parseLong(request.getParameter("ms"));
            if (request.getRequestURI().equals("/async")) {
                AsyncContext async = request.startAsync();
                async.setTimeout(0);
                new Thread(() -> {
                    sleep(ms);
                    try {
                        answer((HttpServletResponse) async.getResponse());
                    } catch (IOException e) {
                        e.printStackTrace();
                    }
                    async.complete();
                }).start();
                return;
            }
            sleep(ms);
            answer(response);
        }

        private static void answer(HttpServletResponse response) throws IOException {
            byte[] body = ("hello from child " + System.getenv("DROVER_TEST_CHILD")).getBytes(StandardCharsets.UTF_8);
            response.setContentType("text/plain");
            response.setContentLength(body.length);
            response.getOutputStream().write(body);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
