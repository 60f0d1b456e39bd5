package dev.drover.supervisor.upgrade;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This build's version, from supervisor.jar's manifest. For tests only: DROVER_INTERNAL_VERSION_FILE names a file
 * whose first line replaces it, so a test can make "a new version" out of the same build by editing that file
 * before `drover ctl upgrade` (the environment itself cannot change: the new master gets the old one's).
 */
public final class DroverVersion {

    static final String OVERRIDE = "DROVER_INTERNAL_VERSION_FILE";

    /** Read once, when the master starts: an upgrade must name the version that ran, not the file's next one. */
    private static final String AT_START = read();

    private DroverVersion() {
    }

    /** The version this master started as. */
    public static String current() {
        return AT_START;
    }

    private static String read() {
        String file = System.getenv(OVERRIDE);
        if (file != null && !file.isEmpty()) {
            try {
                return Files.readString(Path.of(file)).lines().findFirst().orElse("").trim();
            } catch (IOException e) {
                return "(unreadable " + OVERRIDE + " " + file + ")";
            }
        }
        String version = DroverVersion.class.getPackage().getImplementationVersion();
        return version == null ? "(version unknown: not run from supervisor.jar)" : version;
    }
}
