package dev.portico.hosting;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

import dev.portico.config.AppConfig;

/**
 * One process's stdout log, {@code <prefix>_<yyyyMMddHHmmss>_<pid>.log} (ANCM's name), rotated
 * by size: when the next write would take the file past {@code stdoutLogMaxSize}, the file is
 * renamed to {@code <name>.1}, {@code <name>.2} … (a higher number is newer) and a new file of
 * the same name is begun; of the archives only the newest {@code stdoutLogMaxFiles - 1} are
 * kept. A rotation is one rename, one open and at most one delete, whatever the number of
 * files, so the writer (an out-of-process child's pipe pump, or an in-process app's printing
 * thread) is held for no longer than that; a child meanwhile writes into its pipe's buffer. A
 * write is cut after its last line break that still fits, and a line an earlier write began is
 * finished in the same file when its rest is at most {@value #LINE_SLACK} bytes (a pipe read
 * ends anywhere in a line), so lines stay whole; only a line longer than that is cut.
 *
 * <p>Not thread-safe: one writer at a time (the pump thread, or {@code AppOutput}'s lock).
 */
public final class StdoutLog extends OutputStream {

    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss");
    /** How far past stdoutLogMaxSize a file may go to finish the line an earlier write began. */
    public static final int LINE_SLACK = 8192;

    private final Path file;
    private final long maxSize;
    private final int maxFiles;
    private OutputStream out;
    private long size;
    /** The last byte written ended a line (or a line too long for a file was cut there). */
    private boolean atLineStart = true;
    private long archives;

    private StdoutLog(Path file, long maxSize, int maxFiles) throws IOException {
        this.file = file;
        this.maxSize = maxSize;
        this.maxFiles = maxFiles;
        Files.createDirectories(file.toAbsolutePath().getParent());
        open();
    }

    /** Opens (appending to) the log of the process {@code pid} starting now, creating folders. */
    public static StdoutLog open(AppConfig config, long pid) throws IOException {
        return new StdoutLog(fileName(config.stdoutLogFile(), pid), config.stdoutLogMaxSize(), config.stdoutLogMaxFiles());
    }

    /** ANCM's stdout log name: {@code <prefix>_<yyyyMMddHHmmss>_<pid>.log}, for the process starting now. */
    public static Path fileName(Path prefix, long pid) {
        return prefix.resolveSibling(prefix.getFileName() + "_" + LocalDateTime.now().format(STAMP) + "_" + pid + ".log");
    }

    /** The file being written now (its name stays the same across rotations). */
    public Path file() {
        return file;
    }

    /** The archive with this number (1 is the oldest ever made; some may have been deleted). */
    public Path archive(long number) {
        return file.resolveSibling(file.getFileName() + "." + number);
    }

    private void open() throws IOException {
        out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        size = Files.size(file);
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (maxSize > 0 && size + len > maxSize) {
            int room = (int) Math.max(0, maxSize - size);
            int cut = lastLineBreak(b, off, Math.min(room, len));
            boolean forced = false;
            if (cut == 0 && !atLineStart) {
                // a line begun by an earlier write (a pipe read ends anywhere): finish it here if it is short
                cut = firstLineBreak(b, off, (int) Math.min(len, room + LINE_SLACK));
            }
            if (cut == 0 && size == 0) {
                // a line longer than the whole file: give it what fits, the rest goes on in the next file
                cut = room;
                forced = true;
            }
            if (cut > 0) {
                out.write(b, off, cut);
                atLineStart = forced || b[off + cut - 1] == '\n';
                off += cut;
                len -= cut;
            }
            rotate();
        }
        out.write(b, off, len);
        size += len;
        if (len > 0) {
            atLineStart = b[off + len - 1] == '\n';
        }
    }

    /** Bytes up to and including the first '\n' among the first {@code max}; 0 when there is none. */
    private static int firstLineBreak(byte[] b, int off, int max) {
        for (int i = 0; i < max; i++) {
            if (b[off + i] == '\n') {
                return i + 1;
            }
        }
        return 0;
    }

    /** Bytes up to and including the last '\n' among the first {@code max}; 0 when there is none. */
    private static int lastLineBreak(byte[] b, int off, int max) {
        for (int i = max - 1; i >= 0; i--) {
            if (b[off + i] == '\n') {
                return i + 1;
            }
        }
        return 0;
    }

    private void rotate() throws IOException {
        out.close();
        archives++;
        if (maxFiles > 1) {
            Files.move(file, archive(archives), StandardCopyOption.REPLACE_EXISTING);
            long expired = archives - (maxFiles - 1);
            if (expired > 0) {
                Files.deleteIfExists(archive(expired));
            }
        } else {
            Files.deleteIfExists(file);
        }
        open();
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
