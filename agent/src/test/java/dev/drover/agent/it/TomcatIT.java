package dev.drover.agent.it;

/** The agent's contract on a plain embedded Tomcat 10.1 app. */
class TomcatIT extends ForeignServerContract {
    @Override
    Class<?> app() {
        return TomcatApp.class;
    }

    @Override
    String requestThreadPrefix() {
        return "http-nio-";
    }
}
