package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import jnr.posix.POSIX;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CPU priority of workers: a worker JVM boots at the master's nice + drover.boot-nice, and every one of its
 * threads goes to the master's nice + drover.serving-nice at READY. Either way round: boots below the workers that
 * serve (boot-nice), or the workers that serve below the boots and the master (serving-nice).
 *
 * <p>Linux keeps the nice per thread, and a child starts with the nice of the thread that forked it. Workers are
 * therefore started from a thread of their own that runs at the boot nice: every thread of the JVM inherits it from
 * its first instruction, with no window at the serving priority and no race with the JVM creating threads (a
 * setpriority after the start would chase them), and without a `nice` command in the worker's command line, which
 * stays as it was. Lowering a nice value again (at READY) needs CAP_SYS_NICE or RLIMIT_NICE: root has the first, but
 * a default Docker container drops it. Where the master may not, booting workers are not niced at all, since they
 * would serve at the boot nice for ever; that is said once, at start. Raising a nice needs nothing, so serving-nice
 * (a boot at the master's nice, raised at READY) works anywhere.
 */
public final class BootPriority {

    private static final Logger log = LoggerFactory.getLogger(BootPriority.class);
    /** setpriority(2)'s "which" for a thread id (on Linux, PRIO_PROCESS names a thread; who = 0 the calling one). */
    private static final int PRIO_PROCESS = 0;
    private static final int HIGHEST_NICE = 19;
    private static final int ESRCH = 3;
    /** Passes over /proc/PID/task at READY: a thread created during a pass is caught by the next. */
    private static final int MAX_PASSES = 10;

    private final ExecutorService spawnThread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "drover-boot-spawner");
        t.setDaemon(true);
        return t;
    });
    /**
     * The master's nice (the spawn thread starts with its creator's), which the settings add to, and whether the
     * master may lower a nice again; decided on the spawn thread, as jnr's first load takes ~0.5 s.
     */
    private final Future<Decision> decision;

    private record Decision(int masterNice, boolean permitted) {
    }

    /**
     * {@code bootNice}, {@code servingNice}, {@code origin}: the settings at start, for the one line that says what is
     * done with them.
     */
    public BootPriority(int bootNice, int servingNice, String origin) {
        decision = spawnThread.submit(() -> {
            try {
                int master = Posix.posix().getpriority(PRIO_PROCESS, 0);
                if (servingNice > 0) {
                    log.info("serving workers run at nice {} (drover.serving-nice = {}), booting ones at {}, the master "
                            + "at {}", Math.min(HIGHEST_NICE, master + servingNice), servingNice,
                            Math.min(HIGHEST_NICE, master + bootNice), master);
                }
                return new Decision(master, check(master, bootNice - servingNice, bootNice, origin));
            } catch (RuntimeException | LinkageError e) {
                log.warn("drover.boot-nice = {} ({}): off: the master could not read or set a nice value ({})",
                        bootNice, origin, e.toString());
                return new Decision(0, false);
            }
        });
    }

    /** Tries, on a throwaway thread, to raise its nice and lower it back; says once what that means for boots. */
    private static boolean check(int serving, int lowered, int bootNice, String origin) throws InterruptedException {
        String[] refused = {null};
        Thread probe = new Thread(() -> refused[0] = lowerAgain(serving), "drover-nice-probe");
        probe.start();
        probe.join();
        if (refused[0] == null) {
            if (bootNice > 0 && lowered > 0) {
                log.info("booting workers run at nice {} (drover.boot-nice = {}, {}), serving ones at the master's {}",
                        Math.min(HIGHEST_NICE, serving + bootNice), bootNice, origin, serving);
            }
            return true;
        }
        if (lowered > 0) {
            log.warn("drover.boot-nice = {} ({}): off: booting workers run at the serving priority, because the master "
                    + "may not lower a nice value again ({}), and a worker niced for its boot would serve niced for "
                    + "ever; give the master CAP_SYS_NICE (docker run --cap-add SYS_NICE) or an RLIMIT_NICE of at "
                    + "least {} (ulimit -e), or set drover.boot-nice = 0 to silence this", bootNice, origin, refused[0],
                    20 - serving);
        }
        return false;
    }

    /** Null if this thread could go from {@code serving} + 1 back to {@code serving}, else why not. */
    private static String lowerAgain(int serving) {
        if (serving >= HIGHEST_NICE) {
            return "the master already runs at nice " + serving;
        }
        POSIX p = Posix.posix();
        if (p.setpriority(PRIO_PROCESS, 0, serving + 1) != 0) {
            return "setpriority(PRIO_PROCESS, 0, " + (serving + 1) + "): " + LibC.describe(p.errno());
        }
        if (p.setpriority(PRIO_PROCESS, 0, serving) != 0) {
            return "setpriority(PRIO_PROCESS, 0, " + serving + ") after " + (serving + 1) + ": "
                    + LibC.describe(p.errno());
        }
        return null;
    }

    /**
     * Runs {@code start} (a worker's spawn) on the spawn thread at the master's nice + {@code bootNice}, so that the
     * JVM it starts boots there; on the calling thread if boots are not niced. A boot nice above
     * {@code servingNice} needs the right to lower it again at READY; without it, the boot is at the serving nice.
     */
    public <T> T spawn(int bootNice, int servingNice, Callable<T> start) throws IOException {
        try {
            int offset = bootNice > servingNice && !decision.get().permitted() ? servingNice : bootNice;
            if (offset == 0) {
                return start.call();
            }
            int nice = Math.min(HIGHEST_NICE, decision.get().masterNice() + offset);
            return spawnThread.submit(() -> {
                atNice(nice);
                return start.call();
            }).get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting a worker", e);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    /** The spawn thread's own nice (a reload may change drover.boot-nice; lowering it is permitted, see check). */
    private static void atNice(int nice) {
        POSIX p = Posix.posix();
        if (p.getpriority(PRIO_PROCESS, 0) != nice && p.setpriority(PRIO_PROCESS, 0, nice) != 0) {
            log.warn("setpriority(PRIO_PROCESS, 0, {}) failed on the spawn thread: {}; this worker boots at the "
                    + "spawn thread's nice", nice, LibC.describe(p.errno()));
        }
    }

    /**
     * A worker is READY: each of its threads goes to the serving nice (the master's + {@code servingNice}). Threads
     * it creates meanwhile inherit the nice of their creator, which may not be reset yet, so the tasks are listed
     * again until no new one appears.
     */
    public void serving(long pid, int bootNice, int servingNice) {
        Decision decided = decided();
        if (decided == null || bootNice == servingNice || bootNice > servingNice && !decided.permitted()) {
            return; // booted at the serving nice already (spawn)
        }
        int serving = Math.min(HIGHEST_NICE, decided.masterNice() + servingNice);
        POSIX p = Posix.posix();
        Set<Integer> done = new HashSet<>();
        for (int pass = 0; pass < MAX_PASSES; pass++) {
            List<Integer> fresh = tasks(pid).stream().filter(done::add).toList();
            if (fresh.isEmpty()) {
                return;
            }
            for (int tid : fresh) {
                if (p.getpriority(PRIO_PROCESS, tid) != serving && p.setpriority(PRIO_PROCESS, tid, serving) != 0
                        && p.errno() != ESRCH) { // ESRCH: the thread ended meanwhile
                    log.warn("setpriority(PRIO_PROCESS, {}, {}) for a thread of worker pid {} failed: {}; it goes on "
                            + "at its boot nice", tid, serving, pid, LibC.describe(p.errno()));
                }
            }
        }
    }

    /** The decision if it is made (always by a worker's READY: its spawn waited for it), else null. */
    private Decision decided() {
        try {
            return decision.isDone() ? decision.get() : null;
        } catch (ExecutionException e) {
            return null; // the spawn that waited for it reported why
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The thread ids of {@code pid} now; none once it is gone. */
    static List<Integer> tasks(long pid) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return tasks.map(t -> Integer.parseInt(t.getFileName().toString())).toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            log.warn("could not list the threads of worker pid {} (/proc/{}/task): {}", pid, pid, e.toString());
            return List.of();
        }
    }
}
