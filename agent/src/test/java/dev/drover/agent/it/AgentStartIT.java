package dev.drover.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The agent's premain paths besides the normal one: the AppCDS training run and a missing worker runtime. */
class AgentStartIT {

    @Test
    @Timeout(60)
    void aTrainingRunExitsWithZeroOnceTheAppIsReady() throws Exception {
        try (ChildJvms jvms = ChildJvms.start(1, true, Map.of("DROVER_INTERNAL_TRAINING", "1"), TomcatApp.class,
                String.valueOf(ForeignServerContract.freePort()))) {
            assertEquals(0, jvms.awaitExit(50_000), jvms.log(0));
        }
    }

    /** So that the classes its requests load go into the archive too. */
    @Test
    @Timeout(60)
    void aTrainingRunWarmsUpWhenTheEnvironmentAsks() throws Exception {
        try (ChildJvms jvms = ChildJvms.start(1, true, Map.of("DROVER_INTERNAL_TRAINING", "1",
                "DROVER_INTERNAL_WARMUP_REQUESTS", "20", "DROVER_INTERNAL_WARMUP_PATHS", "GET /hello\nGET /hits"),
                TomcatApp.class, String.valueOf(ForeignServerContract.freePort()))) {
            assertEquals(0, jvms.awaitExit(50_000), jvms.log(0));
            assertTrue(jvms.log(0).matches("(?s).*drover training run: WarmUpReport\\[sent=20, answered2xx=20,"
                    + " answeredOther=0, millis=\\d+, stoppedBecause=, skipped=].*"), jvms.log(0));
        }
    }

    @Test
    @Timeout(60)
    void aMissingWorkerRuntimeEndsTheJvmWithOneClearLine() throws Exception {
        try (ChildJvms jvms = ChildJvms.start(1, true, Map.of("DROVER_INTERNAL_RUNTIME_CLASSPATH", "/nonexistent/lib"),
                TomcatApp.class, String.valueOf(ForeignServerContract.freePort()))) {
            assertEquals(5, jvms.awaitExit(50_000), jvms.log(0));
            assertTrue(jvms.log(0).contains("drover agent: dev.drover.worker.runtime.ForeignMain is not in"
                    + " DROVER_INTERNAL_RUNTIME_CLASSPATH (/nonexistent/lib)"), jvms.log(0));
        }
    }
}
