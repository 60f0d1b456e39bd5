package dev.drover.supervisor.arbiter;

import dev.drover.supervisor.config.Settings;
import dev.drover.supervisor.os.Listener;
import dev.drover.supervisor.policy.RecyclePolicy;
import java.util.List;

/**
 * One configuration as workers run it: the settings read at start or at a reload, and the listening sockets its
 * bind addresses resolve to. Every worker belongs to one generation; a reload starts the next.
 */
record Generation(int number, Settings settings, List<Listener> listeners) {

    RecyclePolicy recyclePolicy() {
        return new RecyclePolicy(settings.recycle(), settings.memory());
    }
}
