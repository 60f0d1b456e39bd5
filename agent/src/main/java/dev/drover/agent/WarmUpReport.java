package dev.drover.agent;

/**
 * What {@link ServerView#warmUp} did: requests sent, how they were answered, how long it took, and why it stopped
 * before the count (empty if it did not). {@code skipped} is non-empty when no request could be sent at all (the
 * server version lacks what the warm-up needs): the worker then serves without a warm-up.
 */
public record WarmUpReport(int sent, int answered2xx, int answeredOther, long millis, String stoppedBecause,
                           String skipped) {

    static WarmUpReport skipped(String why) {
        return new WarmUpReport(0, 0, 0, 0, "", why);
    }
}
