package dev.portico.outofprocess.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;
import dev.portico.outofprocess.backend.BackendAddress;

/**
 * The directory of the Unix domain sockets of one valve's backends (transport="unix"): mode 0700
 * and owned by the Tomcat user, so that no other local user can reach a backend (connecting to a
 * socket needs search permission on its directory, whatever the socket file's own mode). It is
 * Portico's work directory's {@code sockets}, or — when a socket path there would not fit the
 * 107 bytes of {@code sun_path} — a short one in {@code java.io.tmpdir}. Created on the first
 * socket; the sockets a killed Tomcat left there are removed when the valve starts.
 */
public final class SocketDirectory {

    /** {@code sun_path} holds 108 bytes on Linux, the terminating NUL included. */
    static final int MAX_PATH_BYTES = 107;
    private static final String SUFFIX = ".sock";
    /** A socket is named by its process's 16-hex-digit route. */
    private static final int NAME_BYTES = 16 + SUFFIX.length();
    private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");

    private static final Log log = LogFactory.getLog(SocketDirectory.class);
    private static final StringManager sm = StringManager.getManager(SocketDirectory.class);

    private final Path directory;

    private SocketDirectory(Path directory) {
        this.directory = directory;
    }

    /** @param workDir Portico's work directory of the Host */
    public static SocketDirectory in(Path workDir) {
        Path preferred = workDir.resolve("sockets").toAbsolutePath().normalize();
        if (fits(preferred)) {
            return new SocketDirectory(preferred);
        }
        String tag = Integer.toHexString(preferred.toString().hashCode());
        return new SocketDirectory(Path.of(System.getProperty("java.io.tmpdir"), "portico-" + tag).toAbsolutePath());
    }

    private static boolean fits(Path directory) {
        return directory.toString().getBytes(StandardCharsets.UTF_8).length + 1 + NAME_BYTES <= MAX_PATH_BYTES;
    }

    public Path path() {
        return directory;
    }

    /**
     * The socket path for a new process, with no file there: the directory is made private
     * first, and refused if it is anyone else's or open to others.
     */
    public synchronized Path socketFor(String route) throws IOException {
        if (!fits(directory)) {
            throw new IOException(sm.getString("sockets.tooLong", directory, String.valueOf(MAX_PATH_BYTES)));
        }
        ensurePrivate();
        Path socket = directory.resolve(route + SUFFIX);
        Files.deleteIfExists(socket);
        return socket;
    }

    private void ensurePrivate() throws IOException {
        try {
            Files.createDirectories(directory.getParent());
            Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(PRIVATE));
        } catch (FileAlreadyExistsException exists) {
            // checked below, whoever made it
        }
        PosixFileAttributeView view = Files.getFileAttributeView(directory, PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        PosixFileAttributes attributes = view.readAttributes();
        UserPrincipal me = directory.getFileSystem().getUserPrincipalLookupService()
                .lookupPrincipalByName(System.getProperty("user.name"));
        if (!attributes.isDirectory() || !attributes.owner().equals(me)) {
            throw new IOException(sm.getString("sockets.notOurs", directory, attributes.owner().getName()));
        }
        if (!attributes.permissions().equals(PRIVATE)) {
            // createDirectory applies the umask, and an older directory may have been opened up
            view.setPermissions(PRIVATE);
        }
    }

    /** At the valve's start, before any process: sockets of processes gone with a killed Tomcat. */
    public void removeStale() {
        if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int removed = 0;
        try (DirectoryStream<Path> sockets = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
            for (Path socket : sockets) {
                if (Files.deleteIfExists(socket)) {
                    removed++;
                }
            }
        } catch (IOException e) {
            log.warn(sm.getString("sockets.staleFailed", directory, e.toString()));
        }
        if (removed > 0) {
            log.info(sm.getString("sockets.staleRemoved", String.valueOf(removed), directory));
        }
    }

    /** The socket of a process that stopped or died; a backend does not always remove its own. */
    public static void remove(BackendAddress address) {
        if (!address.isUnix()) {
            return;
        }
        try {
            Files.deleteIfExists(address.socket());
        } catch (IOException e) {
            log.warn(sm.getString("sockets.removeFailed", address.socket(), e.toString()));
        }
    }
}
