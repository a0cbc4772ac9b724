package io.celeriac.worker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Map;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A class-data-sharing archive for the process pool's children: the classes a child loads (the
 * JDK's, Jackson's, the app's), parsed and laid out once, then mapped by every later child, which
 * roughly halves a child's start. The archive is specific to the JVM, its options and the class
 * path, so its file name is a hash of all three.
 *
 * <p>Java 19+ keeps it up to date by itself ({@code -XX:+AutoCreateSharedArchive}). On 17 a
 * throw-away child makes it once, in the background ({@link #ensure}). A JVM that cannot use an
 * archive ignores it and starts normally ({@code -Xshare:auto}).
 */
final class ClassDataArchive {
    private static final Logger log = LoggerFactory.getLogger("celeriac.worker");

    private final Path file;
    private final boolean auto;
    private final AtomicBoolean making = new AtomicBoolean();

    private ClassDataArchive(Path file, boolean auto) {
        this.file = file;
        this.auto = auto;
    }

    static ClassDataArchive forCommand(List<String> command) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(System.getProperty("java.home").getBytes(StandardCharsets.UTF_8));
            sha.update(Runtime.version().toString().getBytes(StandardCharsets.UTF_8));
            for (String part : command) {
                sha.update(part.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            // An archive only fits the very jars it was made from: a rebuilt jar needs a new one.
            for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
                Path p = Path.of(entry);
                if (Files.exists(p)) {
                    sha.update((p.toAbsolutePath() + "|" + Files.size(p) + "|" + Files.getLastModifiedTime(p).toMillis())
                            .getBytes(StandardCharsets.UTF_8));
                }
            }
            String name = HexFormat.of().formatHex(sha.digest(), 0, 12);
            Path dir = Path.of(System.getProperty("java.io.tmpdir"), "celeriac-cds");
            Files.createDirectories(dir);
            return new ClassDataArchive(dir.resolve(name + ".jsa"), Runtime.version().feature() >= 19);
        } catch (IOException | NoSuchAlgorithmException | RuntimeException e) {
            log.debug("no class-data archive for children: {}", e.toString());
            return null;
        }
    }

    /** Archives of other builds or options not used for a week are removed (each is some megabytes). */
    private static void deleteStale(Path keep) {
        long weekAgo = System.currentTimeMillis() - java.util.concurrent.TimeUnit.DAYS.toMillis(7);
        try (var files = Files.list(keep.getParent())) {
            files.filter(p -> !p.equals(keep) && p.toString().endsWith(".jsa")).forEach(p -> {
                try {
                    if (Files.getLastModifiedTime(p).toMillis() < weekAgo) {
                        Files.deleteIfExists(p);
                    }
                } catch (IOException ignored) {
                    // another process's file, or gone already
                }
            });
        } catch (IOException ignored) {
            // nothing to clean
        }
    }

    /** {@code base} with the options that use the archive (Java 19+: also keep it up to date). */
    List<String> command(List<String> base) {
        List<String> cmd = new ArrayList<>(base);
        if (auto) {
            cmd.add(1, "-XX:+AutoCreateSharedArchive");
            cmd.add(2, "-XX:SharedArchiveFile=" + file);
        } else if (Files.isRegularFile(file)) {
            cmd.add(1, "-XX:SharedArchiveFile=" + file);
        }
        return cmd;
    }

    /**
     * Java 17: when there is no archive yet, makes one in the background with a child that starts,
     * loads the app and exits at once (the JVM writes the archive as it exits). Children started
     * meanwhile run without it.
     */
    void ensure(List<String> base, Map<String, Object> settings, Duration aliveTimeout) {
        if (auto || Files.isRegularFile(file) || !making.compareAndSet(false, true)) {
            return;
        }
        Thread t = new Thread(() -> {
            Path tmp = file.resolveSibling(file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
            try {
                List<String> cmd = new ArrayList<>(base);
                cmd.add(1, "-XX:ArchiveClassesAtExit=" + tmp);
                ChildProcess c = ChildProcess.start(0, cmd, settings, aliveTimeout);
                c.retire();
                if (c.waitForExit(Duration.ofSeconds(60)) && Files.isRegularFile(tmp)) {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    deleteStale(file);
                    log.info("process pool: class-data archive {} made; children start faster from now on", file);
                } else {
                    c.kill(Duration.ZERO);
                }
            } catch (IOException | RuntimeException e) {
                log.debug("process pool: no class-data archive: {}", e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a leftover temporary file is harmless
                }
            }
        }, "celeriac-cds");
        t.setDaemon(true);
        t.start();
    }
}
