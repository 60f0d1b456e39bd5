package dev.drover.supervisor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Where this process's cgroups are, from /proc/self/cgroup and mountinfo texts as the kernel writes them. */
class CgroupLayoutTest {

    private static final Path ROOT = Path.of("/fake");

    /** This machine's files, as read on 2026-12-01. */
    static final String HYBRID_CGROUP = "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/16776d6ba0729abf\n"
            + "1:cpu:/\n0::/\n";
    static final String HYBRID_MOUNTINFO = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
            + "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
            + "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
            + "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
            + "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
    static final String V2_MOUNTINFO = "25 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 "
            + "cgroup2 rw,nsdelegate,memory_recursiveprot\n";

    @Test
    void hybridAsOnThisMachine() {
        CgroupLayout layout = CgroupLayout.parse(HYBRID_CGROUP, HYBRID_MOUNTINFO, ROOT);
        assertEquals(CgroupLayout.Kind.HYBRID, layout.kind());
        assertEquals(Optional.of(Path.of("/fake/sys/fs/cgroup/memory/process_api/16776d6ba0729abf")),
                layout.v1Memory().map(CgroupLayout.Dir::path));
        assertEquals(Optional.of(Path.of("/fake/sys/fs/cgroup/unified")), layout.v2().map(CgroupLayout.Dir::path));
        assertEquals("4:memory:/process_api/16776d6ba0729abf", layout.memoryLine());
    }

    @Test
    void pureV2UnderSystemd() {
        CgroupLayout layout = CgroupLayout.parse("0::/system.slice/drover.service\n", V2_MOUNTINFO, Path.of("/"));
        assertEquals(CgroupLayout.Kind.V2, layout.kind());
        assertEquals(Optional.of(new CgroupLayout.Dir(Path.of("/sys/fs/cgroup/system.slice/drover.service"),
                Path.of("/sys/fs/cgroup"))), layout.v2());
        assertEquals(Optional.empty(), layout.v1Memory());
        assertEquals("0::/system.slice/drover.service", layout.memoryLine());
    }

    @Test
    void aBindMountShowsItsSubtreeAtItsMountPointAndTheLongestRootWins() {
        String mountinfo = V2_MOUNTINFO + "99 25 0:22 /kubepods/pod\\0401 /mnt/pod rw - cgroup2 cgroup2 rw\n";
        CgroupLayout layout = CgroupLayout.parse("0::/kubepods/pod 1/ctr\n", mountinfo, ROOT);
        assertEquals(Optional.of(Path.of("/fake/mnt/pod/ctr")), layout.v2().map(CgroupLayout.Dir::path));
        // A path outside every mount's root has no directory here.
        String only = "99 25 0:22 /kubepods /mnt/k rw - cgroup2 cgroup2 rw\n";
        assertEquals(Optional.empty(), CgroupLayout.parse("0::/system.slice/x\n", only, ROOT).v2());
    }

    @Test
    void v1OnlyAndNone() {
        String mountinfo = "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
        CgroupLayout v1 = CgroupLayout.parse("9:memory:/docker/abc\n1:cpu:/docker/abc\n", mountinfo, ROOT);
        assertEquals(CgroupLayout.Kind.V1, v1.kind());
        assertEquals(Optional.of(Path.of("/fake/sys/fs/cgroup/memory/docker/abc")),
                v1.v1Memory().map(CgroupLayout.Dir::path));
        assertEquals(Optional.empty(), v1.v2());
        assertEquals(CgroupLayout.Kind.NONE, CgroupLayout.parse("", "", ROOT).kind());
    }
}
