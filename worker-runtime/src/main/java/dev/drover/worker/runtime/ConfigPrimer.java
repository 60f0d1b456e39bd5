package dev.drover.worker.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.io.File;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A standby JVM's other use of its wait: it reads HOCON the way an adopted worker reads its config (a file, the
 * reference.conf files on the class path, system-property overrides, substitutions, the getters apps call), so that
 * the adoption does not first load and interpret Typesafe Config's parser. Without it, reading the sample app's
 * config was most of an adoption: 94-186 ms of 98-327 ms ADOPT to READY on an idle 2-core machine
 * (docs/BENCHMARKS.md, "Reloads with standby JVMs, second pass"). Nothing it reads is kept: the adopted worker reads its
 * config from scratch, so a changed file or reference.conf is seen as it is at the adoption.
 */
final class ConfigPrimer {

    private ConfigPrimer() {
    }

    /** A document with what a service's config file holds: objects, lists, durations, sizes, substitutions. */
    static final String DOCUMENT = """
            # a service's settings
            drover {
              bind = ["127.0.0.1:8000", "unix:/run/app.sock"]
              workers = 4
              app = com.example.App
              classpath = ["lib/*", "classes/"]
              max-requests = 10000
              graceful-timeout = 30s
              memory { soft-limit = 512M, hard-limit = 1G }
              warmup.paths = ["/", "POST /health"]
            }
            app {
              name = "primer"
              greeting = ${app.name}" says hello"
              home = ${?HOME}
              ratio = 0.75
              enabled = true
              timeout = 1500 ms
              buffer = 64KiB
              tags = [a, b, c]
              limits = [{ path = "/a", rate = 10 }, { path = "/b", rate = 20 }]
              description = \"\"\"a "multi-line"
                text\"\"\"
            }
            app.extra += 1
            """;

    /**
     * Reads {@link #DOCUMENT} {@code times} times or until {@code limitMs} have passed, stopping early once
     * {@code stop} says so (the standby was adopted meanwhile). Returns how many times it was read; a failure (a
     * class the runtime's loader lacks, say) ends it with the count so far, as priming is only ever a gain.
     */
    static int primeRepeatedly(int times, long limitMs, BooleanSupplier stop) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limitMs);
        int done = 0;
        try {
            // The paths an adoption takes once: a missing file, and the class path's reference.conf files.
            ConfigFactory.parseFile(new File("/nonexistent/drover-standby-primer.conf"),
                    ConfigParseOptions.defaults().setAllowMissing(true));
            ConfigFactory.defaultReference(ConfigPrimer.class.getClassLoader());
            while (done < times && System.nanoTime() - deadline < 0 && !stop.getAsBoolean()) {
                readOnce();
                done++;
            }
        } catch (RuntimeException | LinkageError e) {
            System.err.println("drover worker: could not prime the config reader (going on): " + e);
        }
        return done;
    }

    /** One read as an adopted worker does it, plus the getters an app's start calls; returns a value read. */
    static String readOnce() {
        Config file = ConfigFactory.parseString(DOCUMENT,
                ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setOriginDescription("standby primer"));
        Config config = ConfigFactory.defaultOverrides().withFallback(file).resolve();
        Config app = config.getConfig("app");
        app.getDuration("timeout").toMillis();
        app.getMemorySize("buffer").toBytes();
        app.getDouble("ratio");
        app.getBoolean("enabled");
        app.getStringList("tags");
        app.getConfigList("limits").forEach(limit -> limit.getInt("rate"));
        config.getStringList("drover.bind");
        config.hasPath("drover.memory.hard-limit");
        config.entrySet().size();
        config.root().render();
        return app.getString("greeting");
    }
}
