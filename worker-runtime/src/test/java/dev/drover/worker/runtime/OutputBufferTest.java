package dev.drover.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class OutputBufferTest {

    /** A pipe whose reader is stopped until {@link #open}: writes to it block, as to a full pipe. */
    private static final class StoppedPipe extends OutputStream {
        final CountDownLatch open = new CountDownLatch(1);
        final ByteArrayOutputStream received = new ByteArrayOutputStream();

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            try {
                open.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            received.write(b, off, len);
        }
    }

    @Test
    void writersNeverWaitForAStoppedReaderAndTheDroppedLinesAreCountedWhereTheyWent() throws Exception {
        StoppedPipe pipe = new StoppedPipe();
        OutputBuffer buffer = new OutputBuffer(pipe);
        OutputBuffer.LineSink sink = new OutputBuffer.LineSink(buffer, pipe);
        buffer.startDraining();
        byte[] line = ("x".repeat(1023) + "\n").getBytes(StandardCharsets.US_ASCII);
        int written = OutputBuffer.CAPACITY / line.length + 100;
        long started = System.nanoTime();
        for (int i = 0; i < written; i++) {
            sink.write(line, 0, 300); // a line in two writes: passed on whole, never split by a drop
            sink.write(line, 300, line.length - 300);
        }
        assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) < 5, "writing never blocked");
        pipe.open.countDown();
        buffer.awaitEmpty(5000);
        sink.write("after\n".getBytes(StandardCharsets.US_ASCII), 0, 6);
        buffer.awaitEmpty(5000);

        List<String> lines = pipe.received.toString(StandardCharsets.US_ASCII).lines().toList();
        long whole = lines.stream().filter(l -> l.equals("x".repeat(1023))).count();
        List<String> others = lines.stream().filter(l -> !l.startsWith("x")).toList();
        assertEquals(whole + 2, lines.size(), "every line whole: " + others);
        Matcher notice = Pattern.compile("WARN  OutputBuffer - dropped (\\d+) line\\(s\\) of output \\((\\d+) KiB\\) while "
                + "the master's log was not keeping up").matcher(others.get(0));
        assertTrue(notice.matches(), others.get(0));
        assertEquals(written - whole, Long.parseLong(notice.group(1)));
        assertTrue(written - whole >= 99, "about 100 lines did not fit: " + (written - whole));
        assertEquals("after", others.get(1), "the count comes where the lines were dropped");
    }

    @Test
    void dropsAreReportedEvenWhenNothingIsPrintedAfterThem() throws Exception {
        StoppedPipe pipe = new StoppedPipe();
        OutputBuffer buffer = new OutputBuffer(pipe);
        buffer.startDraining();
        buffer.drop("lost\n".getBytes(StandardCharsets.US_ASCII));
        pipe.open.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!pipe.received.toString(StandardCharsets.US_ASCII).contains("dropped 1 line(s) of output (1 KiB)")) {
            assertTrue(System.nanoTime() < deadline, pipe.received.toString(StandardCharsets.US_ASCII));
            Thread.sleep(10);
        }
    }
}
