package dev.drover.link;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One message on the control link between the master and a worker: a type and named fields.
 * On the wire it is one line: {@code TYPE key=value key=value}. Values are tokens without spaces or '='.
 */
public final class LinkMessage {

    /** Every message type, with the direction it travels. */
    public enum Type {
        /**
         * worker → master, first message: {@code id}, {@code secret}. The master answers with the listening fds,
         * except to a foreign worker, which adds {@code inherited=1}: its one socket is fd 0 from the spawn.
         */
        HELLO,
        /** worker → master: the app started and the worker accepts connections; {@code boot_ms}. */
        READY,
        /**
         * worker → master, every tick: {@code requests}, {@code inflight}, {@code connections}, {@code loop_stall_ms},
         * {@code gc_ms}, {@code heap_used}, and the memory breakdown {@code heap_live}, {@code metaspace},
         * {@code classes}, {@code direct}, {@code threads}. A foreign worker adds {@code request_stall_ms}, the age of
         * its oldest request in flight (0 when none is); its {@code loop_stall_ms} is always 0. Unless measuring is
         * off ({@link RequestTimes#ENABLED}): {@code req_buckets}, {@code req_sum_us}, {@code req_status}, the worker's
         * cumulative request durations and status classes ({@link RequestTimes}; numbers joined by '/').
         */
        STATS,
        /**
         * master → worker: stop accepting, finish in-flight requests, exit; {@code reason}, and for a memory recycle
         * {@code evidence}: a file to write the leak evidence to (class histogram against the baseline) first.
         */
        DRAIN,
        /**
         * master → worker, at the hard memory limit: stop accepting at once, answer only what is in flight (with
         * {@code Connection: close}), close idle connections after a very short grace, exit as soon as nothing is in
         * flight; {@code deadline_ms}, the time the master gives before SIGKILL (a whole number, at least 1), and
         * optionally {@code evidence}: a file for the requests in flight and, if the deadline leaves time, the class
         * histogram.
         */
        CEILING,
        /** master → worker: {@code kind} snapshot (JSON) or heapdump (.hprof) written to {@code path}, still serving. */
        SNAPSHOT,
        /** worker → master: the SNAPSHOT at {@code path} is written ({@code ok=1}) or failed ({@code ok=0}). */
        SNAPSHOT_DONE,
        /**
         * master → worker, to a spare (a worker spawned READY but not accepting): take a slot and accept on the
         * listening sockets now. A spare that is not told so never accepts a connection.
         */
        PROMOTE,
        /** worker → master: the PROMOTE is done, the worker accepts; {@code sockets}, how many it accepts on. */
        PROMOTED,
        /**
         * master → worker, to a standby JVM (booted with Drover's runtime and no app, its listening sockets already
         * handed over at HELLO): become a worker now. {@code id}, {@code generation}, {@code app} (a DroverApp class),
         * {@code classpath} (the app's jars and directories, joined by ':'; empty: none beyond the runtime),
         * {@code config} (the config file; empty: none), {@code max_requests}, {@code spare} (1: boot as a spare),
         * {@code evidence_baseline_ms}. The worker then loads and starts the app and reports READY as after a spawn.
         */
        ADOPT
    }

    /** A field's name or value: one or more of A-Z a-z 0-9 _ . : / + - (so never a space or '='). */
    public static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '_' || c == '.' || c == ':' || c == '/' || c == '+' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private final Type type;
    private final Map<String, String> fields;

    private LinkMessage(Type type, Map<String, String> fields) {
        this.type = type;
        this.fields = fields;
    }

    public static Builder of(Type type) {
        return new Builder(type);
    }

    public Type type() {
        return type;
    }

    public Map<String, String> fields() {
        return fields;
    }

    public String text(String name) {
        String value = fields.get(name);
        if (value == null) {
            throw new LinkProtocolException(type + " message lacks field '" + name + "' (got: " + encode() + ")");
        }
        return value;
    }

    public long number(String name) {
        String value = text(name);
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new LinkProtocolException(type + " field " + name + ": " + value + " (expected: a whole number)");
        }
    }

    /** A whole number of at least {@code min}, or a LinkProtocolException that names the field and the expectation. */
    public long number(String name, long min, String meaning) {
        long value = number(name);
        if (value < min) {
            throw new LinkProtocolException(type + " field " + name + ": " + value + " (expected: " + meaning
                    + ", a whole number of at least " + min + ")");
        }
        return value;
    }

    public long number(String name, long fallback) {
        return fields.containsKey(name) ? number(name) : fallback;
    }

    /** The wire form, without the line terminator. */
    public String encode() {
        StringBuilder line = new StringBuilder(type.name());
        fields.forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
        return line.toString();
    }

    /**
     * Parses one line; throws {@link LinkProtocolException} naming what was wrong. Every worker sends a line a
     * second, so this is written for the master's CPU: no regular expressions, one pass over the words.
     */
    public static LinkMessage decode(String line) {
        Builder builder = null;
        int end = line.length();
        int at = 0;
        while (at < end) {
            while (at < end && line.charAt(at) == ' ') {
                at++;
            }
            if (at == end) {
                break;
            }
            int wordEnd = line.indexOf(' ', at);
            if (wordEnd < 0) {
                wordEnd = end;
            }
            String word = line.substring(at, wordEnd);
            if (builder == null) {
                builder = new Builder(parseType(word, line));
            } else {
                int eq = word.indexOf('=');
                if (eq <= 0) {
                    throw new LinkProtocolException("malformed field '" + word + "' in control-link message \""
                            + line + "\" (expected: key=value)");
                }
                builder.put(word.substring(0, eq), word.substring(eq + 1), line);
            }
            at = wordEnd;
        }
        if (builder == null) {
            throw new LinkProtocolException("empty control-link message (expected: TYPE key=value ...)");
        }
        return builder.build();
    }

    private static Type parseType(String word, String line) {
        try {
            return Type.valueOf(word);
        } catch (IllegalArgumentException e) {
            throw new LinkProtocolException("unknown control-link message type '" + word + "' in \"" + line
                    + "\" (expected one of: " + java.util.Arrays.toString(Type.values()) + ")");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LinkMessage other && type == other.type && fields.equals(other.fields);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, fields);
    }

    @Override
    public String toString() {
        return encode();
    }

    /** Collects fields, refusing values the wire form cannot carry. */
    public static final class Builder {
        private final Type type;
        private final Map<String, String> fields = new LinkedHashMap<>();

        private Builder(Type type) {
            this.type = type;
        }

        public Builder put(String name, Object value) {
            return put(name, String.valueOf(value), null);
        }

        private Builder put(String name, String value, String line) {
            if (!isToken(name) || !isToken(value)) {
                throw new LinkProtocolException("field " + name + "=" + value
                        + (line == null ? "" : " in \"" + line + "\"")
                        + " (expected: name and value made of letters, digits and _.:/+-)");
            }
            fields.put(name, value);
            return this;
        }

        public LinkMessage build() {
            return new LinkMessage(type, Collections.unmodifiableMap(new LinkedHashMap<>(fields)));
        }
    }
}
