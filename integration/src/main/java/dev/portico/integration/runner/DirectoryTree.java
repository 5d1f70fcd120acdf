package dev.portico.integration.runner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Deleting a directory and everything below it, for the WAR runner, the plugin and Portico
 * Express alike. A symbolic link is removed, never followed: a link in an app directory to the
 * user's own files leaves those files alone.
 */
public final class DirectoryTree {

    private DirectoryTree() {
    }

    /** @return what could not be deleted (empty when all is gone, or nothing was there) */
    public static List<Path> delete(Path root) {
        List<Path> failed = new ArrayList<>();
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return failed;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    failed.add(path);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            failed.add(root);
        }
        return failed;
    }
}
