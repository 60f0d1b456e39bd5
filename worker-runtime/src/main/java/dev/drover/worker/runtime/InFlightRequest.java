package dev.drover.worker.runtime;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A request in flight as the leak evidence names it: method, path and age. The path never carries the query string,
 * which may hold secrets (tokens, keys) that have no place in a leak report.
 */
record InFlightRequest(String method, String path, long ageMs) {

    /** The longest path kept: a report line, not a log of the request. */
    static final int MAX_PATH = 200;

    /** The path of a request target: no query, no fragment, at most {@link #MAX_PATH} characters. */
    static String pathOf(String target) {
        int end = target.length();
        for (int i = 0; i < end; i++) {
            char ch = target.charAt(i);
            if (ch == '?' || ch == '#') {
                end = i;
            }
        }
        return target.substring(0, Math.min(end, MAX_PATH));
    }

    /** The evidence file's form: a list of {method, path, age_ms}. */
    static List<Map<String, Object>> toJson(List<InFlightRequest> requests) {
        return requests.stream().map(r -> {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("method", r.method());
            json.put("path", r.path());
            json.put("age_ms", r.ageMs());
            return json;
        }).toList();
    }
}
