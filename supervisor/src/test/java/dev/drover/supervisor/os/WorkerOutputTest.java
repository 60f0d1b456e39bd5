package dev.drover.supervisor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

class WorkerOutputTest {

    @Test
    void aWorkersLineKeepsItsLevelAndItsStackTraceFollows() {
        assertEquals(Level.ERROR, WorkerOutput.levelOf("ERROR LastResortHandler - request handler failed", Level.INFO));
        assertEquals(Level.WARN, WorkerOutput.levelOf("WARN  AcceptBackoff - cannot accept connections", Level.INFO));
        assertEquals(Level.INFO, WorkerOutput.levelOf("INFO  Worker - accepting on 1 socket(s)", Level.ERROR));
        assertEquals(Level.ERROR, WorkerOutput.levelOf("java.lang.IllegalStateException: boom", Level.ERROR));
        assertEquals(Level.ERROR, WorkerOutput.levelOf("io.netty.channel.unix.Errors$NativeIoException", Level.ERROR));
        assertEquals(Level.ERROR, WorkerOutput.levelOf("\tat dev.drover.sample.SampleHandler.channelRead0(X.java:1)",
                Level.ERROR));
        assertEquals(Level.ERROR, WorkerOutput.levelOf("Caused by: java.io.IOException: gone", Level.ERROR));
    }

    @Test
    void whatTheAppPrintsIsInfo() {
        assertEquals(Level.INFO, WorkerOutput.levelOf("print 1 of 3 from worker 1", Level.ERROR));
        assertEquals(Level.INFO, WorkerOutput.levelOf("ERRORS: 3", Level.INFO));
        assertEquals(Level.INFO, WorkerOutput.levelOf("", Level.WARN));
        assertEquals(Level.INFO, WorkerOutput.levelOf("drover worker: cannot load app x.Y", Level.WARN));
    }
}
