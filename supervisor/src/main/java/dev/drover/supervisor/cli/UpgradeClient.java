package dev.drover.supervisor.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import dev.drover.link.ExitCodes;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * `drover ctl upgrade`: asks the master to upgrade in place, and follows it. The master answers only a refusal (its
 * configuration check failed); when it passes, the master execs the new installation, which closes this connection,
 * so the client then asks `status` until the new master answers under the same pid, with one upgrade more, and has
 * taken over (the old workers gone).
 */
final class UpgradeClient {

    /** How long the new master gets to start and take over before the answer is "pending" (exit 3). */
    static final long TAKEOVER_WAIT_MS = 120_000;
    static final long POLL_MS = 200;

    private final Path socket;

    UpgradeClient(Path socket) {
        this.socket = socket;
    }

    int run() {
        Config before;
        try {
            before = status().orElseThrow(() -> new IOException("no answer to status"));
        } catch (IOException e) {
            System.err.println("drover ctl: cannot reach the master at " + socket + ": " + e.getMessage() + " (is it running?)");
            return ExitCodes.INTERNAL_ERROR;
        }
        long pid = before.getLong("pid");
        int upgrades = before.getInt("upgrade.upgrades");
        String answer;
        try {
            answer = CtlCommand.ask(socket, "upgrade");
        } catch (IOException e) {
            answer = ""; // the exec closed the connection before an answer: follow the new master
        }
        if (!answer.isEmpty()) {
            Config reply = parse(answer);
            if (reply.hasPath("error")) {
                System.err.println("drover ctl: " + reply.getString("error"));
                return ExitCodes.USAGE;
            }
        }
        return follow(pid, upgrades);
    }

    private int follow(long pid, int upgrades) {
        long deadline = System.nanoTime() + TAKEOVER_WAIT_MS * 1_000_000;
        String where = "the new master has not answered yet";
        while (System.nanoTime() - deadline < 0) {
            if (ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)) {
                System.err.println("drover ctl: the master (pid " + pid + ") is gone: the new installation could not "
                        + "start (its log says why)");
                return ExitCodes.INTERNAL_ERROR;
            }
            Optional<Config> now = quietStatus();
            if (now.isPresent() && now.get().getInt("upgrade.upgrades") > upgrades) {
                Config s = now.get();
                where = "the new master (from " + s.getString("upgrade.from_version") + ") is taking over: "
                        + s.getString("upgrade.phase");
                if (s.getString("upgrade.phase").equals("complete")) {
                    System.out.println("master " + pid + " upgraded in place from drover "
                            + s.getString("upgrade.from_version") + ": generation " + s.getInt("generation")
                            + " serving, the old master's workers are gone");
                    return ExitCodes.OK;
                }
            }
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        System.err.println("drover ctl: upgrade pending after " + TAKEOVER_WAIT_MS / 1000 + " s: " + where
                + " (`drover ctl status` shows the upgrade's phase)");
        return CtlCommand.PENDING;
    }

    private Optional<Config> status() throws IOException {
        String answer = CtlCommand.ask(socket, "status");
        return answer.isEmpty() ? Optional.empty() : Optional.of(parse(answer));
    }

    /** Between the exec and the new master's control socket, nobody answers: that is expected here. */
    private Optional<Config> quietStatus() {
        try {
            return status();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Config parse(String answer) {
        return ConfigFactory.parseString(answer, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
    }
}
