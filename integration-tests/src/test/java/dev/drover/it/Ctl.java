package dev.drover.it;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** `drover ctl`, run through the launcher as an operator would. */
final class Ctl {

    private Ctl() {
    }

    static DroverProcess.Result run(Path pidfile, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("ctl", "-p", pidfile.toString()));
        command.addAll(List.of(args));
        return DroverProcess.run(command, Map.of(), Duration.ofSeconds(30));
    }

    /** `ctl status --json`, parsed. */
    static Config status(Path pidfile) throws Exception {
        DroverProcess.Result result = run(pidfile, "status", "--json");
        if (result.exitCode() != 0) {
            throw new AssertionError("ctl status failed with " + result.exitCode() + ": " + result.output());
        }
        return ConfigFactory.parseString(result.output(), ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
    }

    static List<Long> servingPids(Path pidfile) throws Exception {
        return status(pidfile).getConfigList("workers").stream()
                .filter(w -> w.getString("state").equals("serving")).map(w -> w.getLong("pid")).toList();
    }
}
