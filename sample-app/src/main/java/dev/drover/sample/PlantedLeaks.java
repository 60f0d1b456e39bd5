package dev.drover.sample;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The planted leaks besides the heap's (LeakyCache), each named so a leak report can point at it: threads that
 * never end (/leak-threads), direct buffers kept (/leak-direct), and classes loaded in loaders that are kept
 * (/leak-classes).
 */
public final class PlantedLeaks {

    private PlantedLeaks() {
    }

    // ---- threads ---------------------------------------------------------------------------------------------

    /** Stack each leaked thread touches before it parks for ever, so that it costs real memory as a thread does. */
    static final int STACK_DEPTH = 600;
    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final CountDownLatch NEVER = new CountDownLatch(1);

    /** Starts {@code n} threads named sample-leaked-thread-N that never end; returns how many were leaked so far. */
    public static int leakThreads(int n) throws InterruptedException {
        CountDownLatch parked = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(() -> deep(STACK_DEPTH, parked), "sample-leaked-thread-" + THREADS.incrementAndGet());
            t.setDaemon(true); // never keeps the JVM from exiting
            t.start();
        }
        parked.await();
        return THREADS.get();
    }

    private static long deep(int depth, CountDownLatch parked) {
        long[] frame = {depth, depth * 2L, depth * 3L, depth * 4L};
        if (depth > 0) {
            return deep(depth - 1, parked) + frame[depth % 4];
        }
        parked.countDown();
        try {
            NEVER.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return frame[0];
    }

    // ---- direct buffers --------------------------------------------------------------------------------------

    private static final List<ByteBuffer> DIRECT = new ArrayList<>();

    /** Allocates and keeps a direct buffer of {@code kib} KiB (every page touched); returns the total kept, bytes. */
    public static synchronized long leakDirect(int kib) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(Math.max(1, kib) * 1024);
        for (int i = 0; i < buffer.capacity(); i += 4096) {
            buffer.put(i, (byte) 1);
        }
        DIRECT.add(buffer);
        return DIRECT.stream().mapToLong(ByteBuffer::capacity).sum();
    }

    // ---- classes ---------------------------------------------------------------------------------------------

    /** A loader that defines its own copy of LeakedClass, and is kept with it. */
    static final class LeakingClassLoader extends ClassLoader {
        LeakingClassLoader(ClassLoader parent) {
            super("sample-leaking-loader", parent);
        }

        Class<?> define(byte[] bytes) {
            return defineClass(LeakedClass.class.getName(), bytes, 0, bytes.length);
        }
    }

    private static final List<Class<?>> CLASSES = new ArrayList<>();
    private static byte[] leakedClassBytes;

    /** Loads {@code n} more copies of LeakedClass, each in a new loader, and keeps them; returns how many so far. */
    public static synchronized int leakClasses(int n) throws IOException {
        if (leakedClassBytes == null) {
            try (InputStream in = LeakedClass.class.getResourceAsStream("LeakedClass.class")) {
                leakedClassBytes = in.readAllBytes();
            }
        }
        for (int i = 0; i < n; i++) {
            Class<?> copy = new LeakingClassLoader(PlantedLeaks.class.getClassLoader()).define(leakedClassBytes);
            try {
                copy.getMethod("step0", long.class).invoke(null, 1L); // linked and initialised, as a used class is
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            CLASSES.add(copy);
        }
        return CLASSES.size();
    }
}
