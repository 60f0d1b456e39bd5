package dev.drover.agent.it;

/** The agent's contract on a plain embedded Jetty 12 app. */
class JettyIT extends ForeignServerContract {
    @Override
    Class<?> app() {
        return JettyApp.class;
    }

    @Override
    String requestThreadPrefix() {
        return "qtp";
    }
}
