package dev.drover.supervisor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The directory check on real directories: owner, mode, type (lstat: a link is judged, never its target), parent. */
class PrivateDirectoryTest {

    @TempDir
    Path tmp;

    private Path dir(String name, String mode) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve(name));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
        return dir;
    }

    private static String mode(Path path) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void createsA0700DirectoryAndItsMissingParents() throws Exception {
        Path created = PrivateDirectory.createOrVerify(tmp.resolve("a/b/private"), PrivateDirectory.Rule.EXACTLY_0700);
        assertEquals("rwx------", mode(created));
        assertEquals(created, PrivateDirectory.createOrVerify(created, PrivateDirectory.Rule.EXACTLY_0700), "reused");
    }

    @Test
    void modeRules() throws Exception {
        Path open = dir("open", "rwxr-xr-x");
        PrivateDirectory.Unsafe unsafe = assertThrows(PrivateDirectory.Unsafe.class,
                () -> PrivateDirectory.createOrVerify(open, PrivateDirectory.Rule.EXACTLY_0700));
        assertEquals(open + " has mode 0755", unsafe.problem());
        assertTrue(unsafe.expected().contains("chmod 700 it, or choose another path"), unsafe.expected());
        PrivateDirectory.createOrVerify(open, PrivateDirectory.Rule.NOT_WRITABLE_BY_OTHERS); // 0755 is fine for reports
        Path groupWritable = dir("shared", "rwxrwxr-x");
        unsafe = assertThrows(PrivateDirectory.Unsafe.class,
                () -> PrivateDirectory.verifyIfExists(groupWritable, PrivateDirectory.Rule.NOT_WRITABLE_BY_OTHERS));
        assertEquals(groupWritable + " has mode 0775: group or others can write to it", unsafe.problem());
        assertEquals("rwxrwxr-x", mode(groupWritable), "verifying never changes the directory");
    }

    @Test
    void aLinkToAGoodDirectoryIsRefusedAndAFileIsNotADirectory() throws Exception {
        Path good = dir("good", "rwx------");
        Path link = Files.createSymbolicLink(tmp.resolve("link"), good);
        PrivateDirectory.Unsafe unsafe = assertThrows(PrivateDirectory.Unsafe.class,
                () -> PrivateDirectory.createOrVerify(link, PrivateDirectory.Rule.EXACTLY_0700));
        assertEquals(link + " is a symbolic link (to " + good + ")", unsafe.problem());
        Path file = Files.writeString(tmp.resolve("file"), "x");
        unsafe = assertThrows(PrivateDirectory.Unsafe.class,
                () -> PrivateDirectory.createOrVerify(file, PrivateDirectory.Rule.NOT_WRITABLE_BY_OTHERS));
        assertEquals(file + " is not a directory", unsafe.problem());
    }

    @Test
    void anotherUsersDirectoryIsRefusedWithItsOwnerAndMode() throws Exception {
        assumeTrue(Posix.euid() == 0, "needs root to give a directory to another user");
        Path theirs = dir("theirs", "rwxrwxrwx");
        Files.setAttribute(theirs, "unix:uid", 65534);
        PrivateDirectory.Unsafe unsafe = assertThrows(PrivateDirectory.Unsafe.class,
                () -> PrivateDirectory.createOrVerify(theirs, PrivateDirectory.Rule.EXACTLY_0700));
        assertEquals(theirs + " is owned by uid 65534, mode 0777", unsafe.problem());
        assertEquals("a directory of uid 0 (the master's user) with mode 0700; remove it, or choose another path",
                unsafe.expected());
    }

    @Test
    void aParentOthersCanWriteIsRefusedUnlessSticky() throws Exception {
        Path open = dir("open", "rwxrwxrwx");
        PrivateDirectory.Unsafe unsafe = assertThrows(PrivateDirectory.Unsafe.class,
                () -> PrivateDirectory.createOrVerify(open.resolve("mine"), PrivateDirectory.Rule.EXACTLY_0700));
        assertEquals(open + " (the directory of mine) has mode 0777: group or others can write to it and it has no "
                + "sticky bit, so another user could replace mine", unsafe.problem());
        Path sticky = dir("sticky", "rwxrwxrwx");
        Files.setAttribute(sticky, "unix:mode", 01777);
        assertEquals("rwx------", mode(PrivateDirectory.createOrVerify(sticky.resolve("mine"),
                PrivateDirectory.Rule.EXACTLY_0700)), "like /tmp: the sticky bit keeps our entry ours");
    }
}
