package dev.drover.supervisor.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where this process's cgroups are, from /proc/self/cgroup and /proc/self/mountinfo: its cgroup v2 directory and its
 * cgroup v1 memory directory, each the path the kernel lists joined to the mount point that shows it. Parsing only:
 * whether Drover may use them is {@link Cgroups}'s question.
 */
public record CgroupLayout(Kind kind, Optional<Dir> v2, Optional<Dir> v1Memory, String memoryLine) {

    /** A cgroup's directory, and the mount point of its hierarchy (where a walk up the tree ends). */
    public record Dir(Path path, Path mount) {
    }

    /** How the machine mounts cgroups; this one is HYBRID (memory on v1, a v2 tree offering only hugetlb). */
    public enum Kind { V2, HYBRID, V1, NONE }

    /**
     * The layout of the process whose /proc/self files are under {@code root}: "/" for real, a temp directory for tests
     * (then every mount point in mountinfo is looked up under it too).
     */
    public static CgroupLayout read(Path root) {
        return parse(readOrEmpty(root.resolve("proc/self/cgroup")), readOrEmpty(root.resolve("proc/self/mountinfo")),
                root);
    }

    /**
     * {@code procSelfCgroup}: lines "ID:CONTROLLERS:PATH", "0::PATH" for v2. {@code mountinfo}: "ID PARENT MAJ:MIN
     * ROOT MOUNTPOINT OPTIONS [TAGS] - FSTYPE SOURCE SUPEROPTIONS"; a v1 hierarchy names its controllers in the super
     * options. {@code root}: prefix of every mount point.
     */
    public static CgroupLayout parse(String procSelfCgroup, String mountinfo, Path root) {
        List<Mount> mounts = mountinfo.lines().map(Mount::parse).flatMap(Optional::stream).toList();
        Optional<String> v1Line = procSelfCgroup.lines().filter(l -> controllers(l).contains("memory")).findFirst();
        Optional<String> v2Line = procSelfCgroup.lines().filter(l -> l.startsWith("0::")).findFirst();
        Optional<Dir> v2 = v2Line.flatMap(l -> join(mounts, "cgroup2", "", path(l), root));
        Optional<Dir> v1 = v1Line.flatMap(l -> join(mounts, "cgroup", "memory", path(l), root));
        Kind kind = v1Line.isPresent() ? (v2Line.isPresent() ? Kind.HYBRID : Kind.V1)
                : v2Line.isPresent() ? Kind.V2 : Kind.NONE;
        return new CgroupLayout(kind, v2, v1, v1Line.or(() -> v2Line).orElse(""));
    }

    /**
     * The cgroup v1 directory of {@code controller} ("cpu", "cpuset") for the process whose /proc/self files are
     * under {@code root}, found as {@link #v1Memory} is; empty where that controller is not on a v1 hierarchy.
     */
    public static Optional<Dir> v1(Path root, String controller) {
        List<Mount> mounts = readOrEmpty(root.resolve("proc/self/mountinfo")).lines().map(Mount::parse)
                .flatMap(Optional::stream).toList();
        return readOrEmpty(root.resolve("proc/self/cgroup")).lines()
                .filter(l -> controllers(l).contains(controller)).findFirst()
                .flatMap(l -> join(mounts, "cgroup", controller, path(l), root));
    }

    private static List<String> controllers(String line) {
        String[] fields = line.split(":", 3);
        return fields.length == 3 ? List.of(fields[1].split(",")) : List.of();
    }

    private static String path(String line) {
        return line.split(":", 3)[2];
    }

    /**
     * The directory of cgroup {@code path}: the mount of that hierarchy whose root (the part of the hierarchy it
     * shows) is the longest prefix of the path, plus the rest. In a container with its own cgroup namespace both are
     * "/"; a bind mount of a sub-tree shows it at its own root.
     */
    private static Optional<Dir> join(List<Mount> mounts, String type, String controller, String path, Path root) {
        Mount best = null;
        for (Mount m : mounts) {
            boolean fits = m.type().equals(type) && (controller.isEmpty() || m.superOptions().contains(controller))
                    && under(path, m.root()) && (best == null || m.root().length() > best.root().length());
            best = fits ? m : best;
        }
        if (best == null) {
            return Optional.empty();
        }
        String rest = path.substring(best.root().equals("/") ? 0 : best.root().length()).replaceFirst("^/+", "");
        Path mountPoint = root.resolve(best.mountPoint().replaceFirst("^/+", ""));
        return Optional.of(new Dir(rest.isEmpty() ? mountPoint : mountPoint.resolve(rest), mountPoint));
    }

    private static boolean under(String path, String mountRoot) {
        return mountRoot.equals("/") || path.equals(mountRoot) || path.startsWith(mountRoot + "/");
    }

    /** One line of mountinfo, the fields this class needs. */
    record Mount(String root, String mountPoint, String type, List<String> superOptions) {

        static Optional<Mount> parse(String line) {
            String[] halves = line.split(" - ", 2);
            String[] before = halves[0].split(" ");
            if (halves.length != 2 || before.length < 5) {
                return Optional.empty();
            }
            String[] after = halves[1].split(" ");
            if (after.length < 3) {
                return Optional.empty();
            }
            return Optional.of(new Mount(unescape(before[3]), unescape(before[4]), after[0],
                    List.of(after[2].split(","))));
        }

        /** The kernel writes a space, tab, newline or backslash in a path as an octal escape (\040). */
        static String unescape(String field) {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < field.length(); i++) {
                char c = field.charAt(i);
                if (c == '\\' && i + 3 < field.length() && field.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                    out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                    i += 3;
                } else {
                    out.append(c);
                }
            }
            return out.toString();
        }
    }

    private static String readOrEmpty(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }
}
