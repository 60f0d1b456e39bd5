package dev.drover.supervisor.os;

import dev.drover.supervisor.config.PathErrors;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Netty's epoll library, copied out of its jar once by the master for all of its workers. Left to itself, Netty
 * copies the library into a new temporary file in every JVM it starts in (and deletes the file once loaded), so
 * each worker paid for the copy at boot and kept a private copy of its code in memory. The workers load this one
 * file instead, so its pages are shared (dev.drover.worker.runtime.Worker; Netty then finds its native methods
 * already bound and skips its own extraction). Netty's copy is the fallback whenever this one cannot be used.
 */
public final class NettyNative {

    private static final Logger log = LoggerFactory.getLogger(NettyNative.class);

    private NettyNative() {
    }

    /**
     * Copies the library into {@code dir} under the name Netty gives it (the name tells its native code which Java
     * package to bind, so it must not change); empty, with a warning, if the jar has none for this platform or the
     * copy fails.
     */
    public static Optional<Path> extract(Path dir) {
        String name = System.mapLibraryName("netty_transport_native_epoll_" + PlatformDependent.normalizedArch());
        String resource = "META-INF/native/" + name;
        try (InputStream in = NettyNative.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                log.warn("Netty's native library {} is not on the master's classpath; each worker extracts its own",
                        resource);
                return Optional.empty();
            }
            Path target = dir.resolve(name);
            // O_CREAT|O_EXCL: the directory is the master's new private one, so the name is free, and should anything
            // be there the copy fails rather than writing through it.
            Files.copy(in, target);
            return Optional.of(target);
        } catch (IOException e) {
            log.warn("cannot copy Netty's native library into {} ({}); each worker extracts its own", dir,
                    PathErrors.describe(e));
            return Optional.empty();
        }
    }
}
