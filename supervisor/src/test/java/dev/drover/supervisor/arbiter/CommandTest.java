package dev.drover.supervisor.arbiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class CommandTest {

    @Test
    void docsListEveryRowOfTheTable() throws Exception {
        String doc = Files.readString(Path.of("../docs/signals.md"));
        for (Command c : Command.values()) {
            String row = "| " + c.signal().orElse("") + " | `" + c.usage() + "` | " + c.effect() + " |";
            assertTrue(doc.contains(row.replace("|  |", "| |")), "docs/signals.md lacks the row: " + row);
        }
        for (String[] row : Command.NOT_COMMANDS) {
            assertTrue(doc.contains("| " + row[0] + " | " + row[1] + " |"), "docs/signals.md lacks: " + row[0]);
        }
    }

    @Test
    void parsesCtlLines() {
        assertEquals(new Command.Parsed(Command.SCALE, 4), Command.parse("scale 4"));
        assertEquals(new Command.Parsed(Command.RECYCLE, 2), Command.parse(" recycle  2 "));
        assertEquals(new Command.Parsed(Command.STOP_QUICK, -1), Command.parse("stop --quick"));
        assertEquals(new Command.Parsed(Command.STOP, -1), Command.parse("stop"));
        assertEquals(new Command.Parsed(Command.LEAKS, -1), Command.parse("leaks"));
        assertEquals(new Command.Parsed(Command.LEAK, -1, "20261126-074512-w1-p42"), Command.parse("leaks 20261126-074512-w1-p42"));
        assertEquals(new Command.Parsed(Command.SNAPSHOT, 3), Command.parse("snapshot 3"));
        assertEquals(new Command.Parsed(Command.HEAPDUMP, 3, "/tmp/w3.hprof"), Command.parse("heapdump 3 /tmp/w3.hprof"));
        assertEquals(List.of("HUP", "TERM", "INT", "TTIN", "TTOU", "USR1", "WINCH"), Command.signals());
    }

    @Test
    void refusesMalformedLines() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Command.parse("scale")).getMessage()
                .contains("\"scale\": expected scale N (ID and N are whole numbers)"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Command.parse("scale many")).getMessage()
                .contains("expected scale N"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Command.parse("heapdump 2")).getMessage()
                .contains("expected heapdump ID PATH"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Command.parse("leaks a b")).getMessage()
                .contains("expected leaks or leaks REPORT"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Command.parse("reboot")).getMessage()
                .startsWith("unknown command \"reboot\" (expected one of: status, reload, stop, stop --quick"));
        assertThrows(IllegalArgumentException.class, () -> Command.parse("stop --now"));
    }
}
