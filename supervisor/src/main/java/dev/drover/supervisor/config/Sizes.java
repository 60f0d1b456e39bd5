package dev.drover.supervisor.config;

import java.util.Locale;

/** Sizes in bytes written for people (config messages), and in the JVM's own notation. */
final class Sizes {

    private static final String[] UNITS = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

    private Sizes() {
    }

    /** 1536 -> "1.5 KiB"; whole numbers without decimals ("64 MiB"). */
    static String human(long bytes) {
        int unit = 0;
        double value = bytes;
        while (value >= 1024 && unit < UNITS.length - 1) {
            value /= 1024;
            unit++;
        }
        String number = value == Math.rint(value) ? Long.toString((long) value)
                : String.format(Locale.ROOT, "%.1f", value);
        return number + " " + UNITS[unit];
    }

    /** 256 MiB -> "256m": the largest unit that divides it, as one would write it after -Xmx. */
    static String jvm(long bytes) {
        String[] suffixes = {"t", "g", "m", "k"};
        for (int i = 0; i < suffixes.length; i++) {
            long unit = 1L << (10 * (4 - i));
            if (bytes != 0 && bytes % unit == 0) {
                return bytes / unit + suffixes[i];
            }
        }
        return Long.toString(bytes);
    }
}
