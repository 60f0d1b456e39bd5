package dev.drover.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What of the foreign worker's set-up is policy: the environment it needs, and how its log lines read. */
class ForeignWorkerTest {

    private static Map<String, String> spawnedWith() {
        Map<String, String> env = new HashMap<>();
        env.put("DROVER_INTERNAL_ID", "3");
        env.put("DROVER_INTERNAL_GENERATION", "2");
        env.put("DROVER_INTERNAL_SECRET", "s3cret");
        env.put("DROVER_INTERNAL_LINK", "/run/drover/link.sock");
        env.put("DROVER_INTERNAL_MASTER_PID", "4242");
        env.put("DROVER_INTERNAL_MAX_REQUESTS", "1000");
        return env;
    }

    @Test
    void aForeignWorkerNeedsNeitherListenersNorAnAppClass() {
        WorkerEnv env = WorkerEnv.foreignFromEnvironment(spawnedWith());
        assertEquals(3, env.workerId());
        assertEquals(1000, env.maxRequests());
        assertEquals(List.of("tcp"), env.listenerKinds());
    }

    @Test
    void aNativeWorkerStillNeedsThem() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> WorkerEnv.fromEnvironment(spawnedWith()));
        assertTrue(e.getMessage().contains("DROVER_INTERNAL_LISTENERS is not set"), e.getMessage());
    }

    @Test
    void aForeignAppIsOnlyNamed() {
        Map<String, String> env = spawnedWith();
        env.put("DROVER_INTERNAL_APP", "/srv/app/service.jar");
        env.put("DROVER_INTERNAL_LISTENERS", "tcp");
        assertEquals("/srv/app/service.jar", WorkerEnv.foreignFromEnvironment(env).appClass());
    }

    @Test
    void droverLinesKeepTheirLevelFirstAndSayWhoseTheyAre() {
        assertEquals("INFO  [drover] ForeignWorker - accepting\n", ForeignMain.tag("INFO  ForeignWorker - accepting\n"));
        assertEquals("ERROR [drover] MasterLink - x\n", ForeignMain.tag("ERROR MasterLink - x\n"));
    }
}
