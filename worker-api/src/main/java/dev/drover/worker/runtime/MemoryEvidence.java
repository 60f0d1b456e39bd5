package dev.drover.worker.runtime;

import java.lang.management.ManagementFactory;
import javax.management.ObjectName;

/**
 * What a worker recycled for memory leaves behind: the top of its class histogram (live objects by class, after a
 * full GC), written to its log, so the operator can see what grew. Taken in-process with the DiagnosticCommand
 * MBean, the same command as {@code jcmd PID GC.class_histogram}, without starting another JVM.
 */
final class MemoryEvidence {

    private static final LazyLogging.Log log = LazyLogging.Log.of(MemoryEvidence.class);
    static final int TOP_CLASSES = 20;
    static final int TOP_APP_CLASSES = 10;
    private static final java.util.List<String> PLATFORM = java.util.List.of("java.", "javax.", "jdk.", "sun.",
            "com.sun.", "io.netty.", "com.typesafe.config.", "ch.qos.logback.", "org.slf4j.", "dev.drover.worker.",
            "dev.drover.link.", "[");

    private MemoryEvidence() {
    }

    static boolean isApplicationClass(String name) {
        return PLATFORM.stream().noneMatch(name::startsWith);
    }

    static void logClassHistogram(int top) {
        try {
            String histogram = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
            String[] lines = histogram.split("\n");
            StringBuilder out = new StringBuilder("memory evidence: the ").append(top)
                    .append(" classes holding the most live heap (GC.class_histogram):");
            for (int i = 0; i < Math.min(lines.length, top + 2); i++) {
                out.append("\n    ").append(lines[i]);
            }
            if (lines.length > 1) {
                out.append("\n    ").append(lines[lines.length - 1].trim());
            }
            // A leak is usually held by the application's own classes, which rank low by bytes behind the
            // arrays they own: list the biggest of those separately.
            out.append("\n  the app's own classes with the most live heap:");
            int shown = 0;
            for (int i = 2; i < lines.length - 1 && shown < TOP_APP_CLASSES; i++) {
                String[] cols = lines[i].trim().split("\\s+");
                if (cols.length >= 4 && isApplicationClass(cols[3])) {
                    out.append("\n    ").append(lines[i]);
                    shown++;
                }
            }
            log.warn(out.toString());
        } catch (Exception e) {
            log.warn("memory evidence: cannot take a class histogram: {}", e.toString());
        }
    }
}
