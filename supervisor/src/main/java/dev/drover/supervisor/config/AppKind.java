package dev.drover.supervisor.config;

/**
 * What drover.app names. A value that ends in ".jar" or holds a '/' is a jar's path (no Java class has a '/' in its
 * name, and none sensibly has a simple name "jar"); any other value is a class name, and which kind of class it is
 * only loading it can tell: AppCheck decides DROVER_APP or MAIN_CLASS.
 */
public enum AppKind {
    /** A class name not looked at yet (what SettingsReader can tell from the text alone). */
    CLASS,
    /** A class implementing dev.drover.worker.api.DroverApp: a native worker. */
    DROVER_APP,
    /** An executable jar, run as {@code java -jar} would: a foreign worker. */
    JAR,
    /** A class with {@code public static void main(String[])} on drover.classpath: a foreign worker. */
    MAIN_CLASS;

    /** Whether the app runs its own server (Tomcat, Jetty) in the worker, driven through Drover's agent. */
    public boolean foreign() {
        return this == JAR || this == MAIN_CLASS;
    }

    /** A value of drover.app that names a jar rather than a class. */
    static boolean isJarPath(String app) {
        return app.contains("/") || app.toLowerCase(java.util.Locale.ROOT).endsWith(".jar");
    }
}
