package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The master's cgroup v2 sub-tree, where cgroup v2 is delegated to it: drover-PID/ under its own cgroup, the master
 * moved into drover-PID/master, and one cgroup per worker with the kernel's memory ceiling ({@link WorkerCgroup}).
 * Set up once at start, taken down at the master's exit; where any step fails, there is none, and one line says why.
 */
public final class Cgroups implements AutoCloseable {

    /**
     * Test-only: a directory standing in for "/" (its proc/self/cgroup, proc/self/mountinfo and the mount points they
     * name), so that an integration test can run the cgroup path against a fake cgroupfs. Never set it otherwise.
     */
    public static final String ROOT_VARIABLE = "DROVER_INTERNAL_CGROUP_ROOT";

    private final Path own;
    private final Path base;
    private final long pid;
    private final AtomicInteger sequence = new AtomicInteger();
    /** What set-up changed, so that close() undoes that and no more. */
    private boolean moved;
    private boolean ownControl;
    private boolean baseControl;

    private Cgroups(Path own, long pid) {
        this.own = own;
        this.base = own.resolve("drover-" + pid);
        this.pid = pid;
    }

    /** The result of set-up: the cgroups, or why there are none (a clause for the start's one warning). */
    public record Setup(Optional<Cgroups> cgroups, String why) {
    }

    /** The fake root of {@link #ROOT_VARIABLE}, or "/". */
    public static Path fsRoot() {
        String fake = System.getenv(ROOT_VARIABLE);
        return Path.of(fake == null || fake.isEmpty() ? "/" : fake);
    }

    /** Sets up the sub-tree for the master {@code pid}, or says why it cannot. */
    public static Setup setUp(CgroupLayout layout, long pid) {
        Optional<String> refusal = refusal(layout, pid);
        if (refusal.isPresent()) {
            return new Setup(Optional.empty(), refusal.get());
        }
        Cgroups cgroups = new Cgroups(layout.v2().orElseThrow().path(), pid);
        try {
            cgroups.build();
            return new Setup(Optional.of(cgroups), "");
        } catch (IOException e) {
            cgroups.close();
            return new Setup(Optional.empty(), e.getMessage());
        }
    }

    /**
     * Why this process cannot have per-worker cgroups, read before anything is changed: no cgroup v2, the memory
     * controller not offered to its cgroup (not delegated, or bound to v1 as on a hybrid machine), or other processes
     * in its cgroup (a cgroup with processes cannot enable a controller for its children, and they cannot be moved).
     */
    static Optional<String> refusal(CgroupLayout layout, long pid) {
        String where = "(/proc/self/cgroup: " + layout.memoryLine() + ")";
        if (layout.v1Memory().isPresent() || layout.kind() == CgroupLayout.Kind.V1) {
            return Optional.of("cgroup v2 not delegated " + where + ": the memory controller is on cgroup v1");
        }
        if (layout.v2().isEmpty()) {
            return Optional.of(layout.kind() == CgroupLayout.Kind.NONE ? "no cgroups in /proc/self/cgroup"
                    : "cgroup v2 is not mounted where this process sees it " + where);
        }
        Path own = layout.v2().get().path();
        String controllers = readOrEmpty(own.resolve("cgroup.controllers"));
        if (!List.of(controllers.split("\\s+")).contains("memory")) {
            return Optional.of("cgroup v2 not delegated " + where + ": " + own.resolve("cgroup.controllers")
                    + " offers \"" + controllers + "\", not memory");
        }
        List<String> others = readOrEmpty(own.resolve("cgroup.procs")).lines()
                .filter(p -> !p.isBlank() && !p.strip().equals(Long.toString(pid))).toList();
        if (!others.isEmpty()) {
            return Optional.of(own + " holds other processes besides the master (pids " + String.join(", ", others)
                    + "): a cgroup with processes cannot give the memory controller to its children");
        }
        return Optional.empty();
    }

    /** mkdir drover-PID/master, move the master there, then +memory for drover-PID and for its children. */
    private void build() throws IOException {
        step("create " + base.resolve("master"), () -> Files.createDirectories(base.resolve("master")));
        write(base.resolve("master/cgroup.procs"), Long.toString(pid), "move the master into it");
        moved = true;
        write(own.resolve("cgroup.subtree_control"), "+memory", "enable the memory controller below " + own);
        ownControl = true;
        write(base.resolve("cgroup.subtree_control"), "+memory", "enable the memory controller below " + base);
        baseControl = true;
    }

    /** The sub-tree's directory: drover-PID. */
    public Path base() {
        return base;
    }

    /**
     * Creates the cgroup of worker {@code id} of generation {@code generation}: memory.high = {@code hardLimit}
     * (above it the kernel throttles the worker and reclaims its memory, and never kills), memory.max = 110 % of it
     * (the kernel's OOM kill, only if Drover's own sampling is late), memory.oom.group = 1 (the kill takes the whole
     * worker). The name carries a sequence number: a slot's next worker of the same generation gets its own.
     */
    public WorkerCgroup create(int id, int generation, long hardLimit) throws IOException {
        Path dir = base.resolve("w" + id + "-g" + generation + "-" + sequence.incrementAndGet());
        long max = hardLimit + hardLimit / 10;
        try {
            step("create " + dir, () -> Files.createDirectory(dir));
            write(dir.resolve("memory.high"), Long.toString(hardLimit), "set memory.high");
            write(dir.resolve("memory.max"), Long.toString(max), "set memory.max");
            write(dir.resolve("memory.oom.group"), "1", "set memory.oom.group");
        } catch (IOException e) {
            remove(dir);
            throw e;
        }
        return new WorkerCgroup(dir, max, WorkerCgroup.oomKills(dir));
    }

    /**
     * At the master's exit: removes the workers' cgroups that are left, then undoes set-up in reverse (the memory
     * controller off, the master back in its own cgroup, which a cgroup with a controller enabled for its children
     * would refuse) and removes drover-PID. Best effort: systemd removes a stopped unit's whole tree anyway.
     */
    @Override
    public void close() {
        try (Stream<Path> children = Files.list(base)) {
            children.filter(d -> !d.getFileName().toString().equals("master")).forEach(Cgroups::remove);
        } catch (IOException e) {
            // no drover-PID: set-up failed at its first step
        }
        if (baseControl) {
            writeQuietly(base.resolve("cgroup.subtree_control"), "-memory");
        }
        if (ownControl) {
            writeQuietly(own.resolve("cgroup.subtree_control"), "-memory");
        }
        if (moved) {
            writeQuietly(own.resolve("cgroup.procs"), Long.toString(pid));
        }
        remove(base.resolve("master"));
        remove(base);
    }

    /**
     * rmdir, after unlinking the directory's files: on cgroupfs those unlinks fail (a cgroup's interface files cannot
     * be removed, rmdir takes them along); in a fake tree of plain files they make the rmdir possible. Quiet: a cgroup
     * that still holds a process stays, and close() tries again.
     */
    static boolean remove(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(Files::isRegularFile).forEach(f -> {
                try {
                    Files.delete(f);
                } catch (IOException e) {
                    // cgroupfs: expected
                }
            });
        } catch (IOException e) {
            return false;
        }
        try {
            Files.delete(dir);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private interface Step {
        void run() throws IOException;
    }

    /** Runs one step; its failure says which step, in words for the start's one line. */
    private static void step(String what, Step step) throws IOException {
        try {
            step.run();
        } catch (IOException e) {
            throw new IOException("cannot " + what + ": " + e, e);
        }
    }

    private static void write(Path file, String text, String what) throws IOException {
        // On cgroupfs the file comes with its directory; creating it matters to a fake tree only.
        step(what + " (" + text + " > " + file + ")", () -> Files.writeString(file, text + "\n"));
    }

    private static void writeQuietly(Path file, String text) {
        try {
            Files.writeString(file, text + "\n");
        } catch (IOException e) {
            // best effort at exit
        }
    }

    static String readOrEmpty(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            return "";
        }
    }
}
