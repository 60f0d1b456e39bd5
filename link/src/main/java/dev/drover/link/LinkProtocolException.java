package dev.drover.link;

/** A control-link message that does not follow the protocol; the message says what was received and expected. */
public final class LinkProtocolException extends RuntimeException {
    public LinkProtocolException(String message) {
        super(message);
    }
}
