package io.celeriac.manager;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A log file rotated by size, as supervisord and logrotate do: when a line would take NAME.log past
 * {@code maxBytes}, NAME.log.N-1 becomes NAME.log.N (the oldest beyond {@code backups} is deleted),
 * NAME.log becomes NAME.log.1, and a new NAME.log begins. Lines are never split across files.
 */
final class RotatingLog implements AutoCloseable {
    private final Path file;
    private final long maxBytes;
    private final int backups;
    private OutputStream out;
    private long size;

    RotatingLog(Path file, long maxBytes, int backups) throws IOException {
        this.file = file;
        this.maxBytes = maxBytes;
        this.backups = backups;
        open();
    }

    private void open() throws IOException {
        out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        size = Files.size(file);
    }

    synchronized void write(String line) {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            if (size > 0 && size + bytes.length > maxBytes) {
                rotate();
            }
            out.write(bytes);
            out.flush();
            size += bytes.length;
        } catch (IOException e) {
            System.err.println("celeriac manager: cannot write " + file + ": " + e.getMessage());
        }
    }

    private void rotate() throws IOException {
        out.close();
        if (backups == 0) {
            Files.deleteIfExists(file);
        } else {
            Files.deleteIfExists(backup(backups));
            for (int i = backups - 1; i >= 1; i--) {
                if (Files.exists(backup(i))) {
                    Files.move(backup(i), backup(i + 1), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Files.move(file, backup(1), StandardCopyOption.REPLACE_EXISTING);
        }
        open();
    }

    private Path backup(int n) {
        return file.resolveSibling(file.getFileName() + "." + n);
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException ignored) {
            // closing at shutdown
        }
    }
}
