package dev.drover.agent;

/** The app's server cannot be run as a Drover worker; the message says why and what to change. */
public final class ServerRefusedException extends RuntimeException {
    public ServerRefusedException(String message) {
        super(message);
    }
}
