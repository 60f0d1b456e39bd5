package dev.drover.agent.it;

import java.util.Map;
import java.util.TreeMap;

/** The test apps' /hits: how many requests came in on each local port, so far ("hits 8080=3 41234=20"). */
final class Hits {
    private static final Map<Integer, Integer> BY_PORT = new TreeMap<>();

    private Hits() {
    }

    static synchronized String count(int localPort) {
        BY_PORT.merge(localPort, 1, Integer::sum);
        StringBuilder answer = new StringBuilder("hits");
        BY_PORT.forEach((port, hits) -> answer.append(' ').append(port).append('=').append(hits));
        return answer.toString();
    }
}
