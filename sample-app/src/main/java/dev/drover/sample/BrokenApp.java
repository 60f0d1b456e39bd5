package dev.drover.sample;

import dev.drover.worker.api.DroverApp;
import io.netty.channel.ChannelHandler;

/** An app whose class cannot be initialised: for testing app load errors (exit code 4). */
public final class BrokenApp implements DroverApp {

    static {
        if (Boolean.parseBoolean("true")) {
            throw new IllegalStateException("BrokenApp: its static initialiser always fails");
        }
    }

    @Override
    public ChannelHandler newRequestHandler() {
        throw new UnsupportedOperationException();
    }
}
