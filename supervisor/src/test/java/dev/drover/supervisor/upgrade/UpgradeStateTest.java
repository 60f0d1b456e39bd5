package dev.drover.supervisor.upgrade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UpgradeStateTest {

    @Test
    void whatTheOldMasterWritesTheNewOneReadsBack() {
        UpgradeState state = new UpgradeState("1.2 & more=odd", 7, 2,
                List.of(new UpgradeState.Socket("127.0.0.1:0", 5), new UpgradeState.Socket("unix:/tmp/a b,c@d.sock", 9)),
                List.of(new UpgradeState.Child(4100, 1, 7, "serving"), new UpgradeState.Child(4101, 2, 6, "draining")),
                List.of(4200L));
        assertEquals(state, UpgradeState.from(Map.of(UpgradeState.VARIABLE, state.encode())).orElseThrow());
    }

    @Test
    void noVariableMeansAnOrdinaryStart() {
        assertTrue(UpgradeState.from(Map.of()).isEmpty());
    }

    @Test
    void aFormatThisVersionDoesNotKnowIsRefused() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> UpgradeState.from(Map.of(UpgradeState.VARIABLE, "v=2&version=9")));
        assertTrue(e.getMessage().contains("expected 1"), e.getMessage());
    }
}
