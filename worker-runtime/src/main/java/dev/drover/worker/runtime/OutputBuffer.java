package dev.drover.worker.runtime;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The worker's stdout and stderr as its Java code sees them (System.out, System.err, and so logback's console
 * appender, which looks System.out up at every write): whole lines go into a bounded buffer that one thread writes
 * to the real pipes. The master reads those pipes; when it does not (stopped, or slower than the worker's logging),
 * the pipe fills, and without this buffer every thread that logs or prints would block, event loops included. When
 * the buffer is full, lines are dropped and counted, and the count takes their place in the output.
 * <p>
 * The JVM's own output cannot go through here: a SIGQUIT thread dump, -Xlog and a crash report are written by the VM
 * straight to fd 1 and 2. With the pipe full, that output still waits for the master (a thread dump is written at a
 * safepoint, so the whole worker waits with it).
 */
final class OutputBuffer {

    /** Bytes held while the pipe is full; about 10,000 log lines. */
    static final int CAPACITY = 1 << 20;
    /** After drops, lines are taken again once the buffer holds no more than this. */
    static final int RESUME_AT = CAPACITY / 2;
    /** A line longer than this is passed on in pieces rather than held back for its end. */
    static final int MAX_LINE = 64 * 1024;
    /** How long exit waits for buffered output to reach the pipe: the master reads a failed boot's last lines. */
    static final long EXIT_FLUSH_MS = 2000;

    private record Chunk(OutputStream to, byte[] bytes) {
    }

    private final ArrayDeque<Chunk> chunks = new ArrayDeque<>();
    private final OutputStream stdout;
    private int buffered;
    /** Lines dropped since output last got through, and their bytes; reported where they would have been. */
    private long gapLines;
    private long gapBytes;
    private boolean writing;

    OutputBuffer(OutputStream stdout) {
        this.stdout = stdout;
    }

    /** Replaces System.out and System.err; call first thing in main, before anything prints or logs. */
    static OutputBuffer install() {
        FileOutputStream out = new FileOutputStream(FileDescriptor.out);
        FileOutputStream err = new FileOutputStream(FileDescriptor.err);
        OutputBuffer buffer = new OutputBuffer(out);
        LineSink outLines = new LineSink(buffer, out);
        LineSink errLines = new LineSink(buffer, err);
        System.setOut(new PrintStream(outLines, true, charset("sun.stdout.encoding")));
        System.setErr(new PrintStream(errLines, true, charset("sun.stderr.encoding")));
        buffer.startDraining();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            outLines.passOnPartialLine();
            errLines.passOnPartialLine();
            buffer.awaitEmpty(EXIT_FLUSH_MS);
        }, "drover-output-flush"));
        return buffer;
    }

    /** The charset the JDK itself would give System.out or System.err. */
    private static Charset charset(String property) {
        String name = System.getProperty(property);
        try {
            return name == null ? Charset.defaultCharset() : Charset.forName(name);
        } catch (RuntimeException e) {
            return Charset.defaultCharset();
        }
    }

    /** Queues {@code bytes} for {@code to}, or drops them if the buffer is full; returns whether they were queued. */
    synchronized boolean offer(OutputStream to, byte[] bytes) {
        // Once full, it drops until half of it has drained: one gap (and one count) per episode, not one per line
        // that happened to fit whenever a few bytes got through.
        if (buffered + bytes.length > CAPACITY || (gapBytes > 0 && buffered > RESUME_AT)) {
            return drop(bytes);
        }
        closeGap();
        chunks.addLast(new Chunk(to, bytes));
        buffered += bytes.length;
        notifyAll();
        return true;
    }

    /** Counts {@code bytes} as dropped; returns false (they were not queued). */
    synchronized boolean drop(byte[] bytes) {
        gapLines += newlines(bytes); // a long line's pieces count once, with the piece that ends it
        gapBytes += bytes.length;
        notifyAll(); // an idle drain thread reports them at once
        return false;
    }

    /** Puts the count of dropped lines where they were dropped (it may exceed the capacity a little). */
    private void closeGap() {
        if (gapBytes == 0) {
            return;
        }
        byte[] notice = ("WARN  OutputBuffer - dropped " + gapLines + " line(s) of output (" + (gapBytes + 1023) / 1024
                + " KiB) while the master's log was not keeping up\n").getBytes(Charset.defaultCharset());
        chunks.addLast(new Chunk(stdout, notice));
        buffered += notice.length;
        gapLines = 0;
        gapBytes = 0;
    }

    private static int newlines(byte[] bytes) {
        int n = 0;
        for (byte b : bytes) {
            if (b == '\n') {
                n++;
            }
        }
        return n;
    }

    void startDraining() {
        Thread drain = new Thread(this::drain, "drover-output");
        drain.setDaemon(true);
        drain.start();
    }

    /** The one thread that writes to the pipes: the only one that may block on them. */
    private void drain() {
        while (true) {
            Chunk next;
            synchronized (this) {
                while (chunks.isEmpty()) {
                    writing = false;
                    notifyAll();
                    if (gapBytes > 0) {
                        closeGap(); // nothing printed since the drops: report them now
                        continue;
                    }
                    waitUninterruptibly(0);
                }
                next = chunks.removeFirst();
                buffered -= next.bytes().length;
                writing = true;
            }
            try {
                next.to().write(next.bytes());
            } catch (IOException e) {
                // The master closed its end: it is gone, and the worker goes with it (the control link says so).
            }
        }
    }

    /** Waits until everything queued has been written, at most {@code timeoutMs}. */
    synchronized void awaitEmpty(long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!chunks.isEmpty() || writing) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return;
            }
            waitUninterruptibly(left);
        }
    }

    private void waitUninterruptibly(long ms) {
        try {
            wait(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * One stream's bytes, gathered into lines (a logback event, stack trace included, arrives as one write and stays
     * one piece), so that a drop never leaves half a line in the output. The master reads lines, so holding a line
     * back until its end hides nothing.
     */
    static final class LineSink extends OutputStream {
        private final OutputBuffer buffer;
        private final OutputStream to;
        private byte[] line = new byte[256];
        private int length;
        /** A piece of an over-long line was dropped: the rest of that line goes too. */
        private boolean droppingLine;

        LineSink(OutputBuffer buffer, OutputStream to) {
            this.buffer = buffer;
            this.to = to;
        }

        @Override
        public synchronized void write(int b) {
            append(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] bytes, int off, int len) {
            append(bytes, off, len);
        }

        private void append(byte[] bytes, int off, int len) {
            if (len == 0) {
                return;
            }
            if (length + len > line.length) {
                line = java.util.Arrays.copyOf(line, Math.max(line.length * 2, length + len));
            }
            System.arraycopy(bytes, off, line, length, len);
            length += len;
            boolean ended = line[length - 1] == '\n';
            if (ended || length >= MAX_LINE) {
                passOn(ended);
            }
        }

        private void passOn(boolean ended) {
            byte[] piece = java.util.Arrays.copyOf(line, length);
            length = 0;
            if (line.length > MAX_LINE) {
                line = new byte[256]; // a one-off long line does not keep its array
            }
            boolean queued = droppingLine ? buffer.drop(piece) : buffer.offer(to, piece);
            droppingLine = !queued && !ended;
        }

        /** At exit: the last, unfinished line. */
        synchronized void passOnPartialLine() {
            if (length > 0) {
                passOn(true);
            }
        }
    }
}
