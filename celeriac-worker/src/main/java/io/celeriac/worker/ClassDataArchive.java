package io.celeriac.worker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Map;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A class-data archive for the process pool's children: the classes a child loads (the JDK's,
 * Jackson's, the app's), parsed and laid out once, then mapped by every later child, which
 * roughly halves a child's start. The archive is specific to the JVM, its options and the class
 * path, so its file name is a hash of all three. What kind of archive depends on the JVM:
 *
 * <ul>
 *   <li>Java 17–18: a dynamic CDS archive that a throw-away child writes as it exits
 *       ({@code -XX:ArchiveClassesAtExit}), made once in the background ({@link #ensure});</li>
 *   <li>Java 19–24: the same, kept up to date by the JVM itself ({@code -XX:+AutoCreateSharedArchive});</li>
 *   <li>Java 25+: an AOT cache (JEP 483/514: classes loaded <em>and linked</em>, {@code -XX:AOTCacheOutput}
 *       then {@code -XX:AOTCache}), which costs a child some 15% less CPU to start than a CDS archive.</li>
 * </ul>
 *
 * <p>Children started before the archive exists run without it; a JVM that cannot use an archive
 * ignores it and starts normally.
 *
 * <p>Every child maps the archive, so nobody else may be able to write it: it lives in a directory
 * of this user's own, {@code $TMPDIR/celeriac-cds-UID}, created with mode 0700. Before each use the
 * directory is checked — a directory (not a link), owned by this user, mode 0700 — and when another
 * user made it first, or its mode lets others in, the worker logs one WARN line and runs its
 * children without an archive; it never uses, writes or cleans such a directory.
 */
final class ClassDataArchive {
    private static final Logger log = LoggerFactory.getLogger("celeriac.worker");

    /** How a JVM of a given feature version keeps and uses an archive. */
    enum Kind {
        /** Java 17–18: written by a throw-away child at its exit, then mapped. */
        AT_EXIT(".jsa", "-XX:ArchiveClassesAtExit=", "-XX:SharedArchiveFile="),
        /** Java 19–24: the JVM creates and refreshes it by itself. */
        AUTO(".jsa", null, "-XX:SharedArchiveFile="),
        /** Java 25+: an AOT cache of loaded and linked classes. */
        AOT(".aot", "-XX:AOTCacheOutput=", "-XX:AOTCache=");

        final String suffix;
        final String makeOption;
        final String useOption;

        Kind(String suffix, String makeOption, String useOption) {
            this.suffix = suffix;
            this.makeOption = makeOption;
            this.useOption = useOption;
        }

        static Kind of(int javaFeature) {
            return javaFeature >= 25 ? AOT : javaFeature >= 19 ? AUTO : AT_EXIT;
        }
    }

    private final Path file;
    private final Kind kind;
    private final AtomicBoolean making = new AtomicBoolean();

    private ClassDataArchive(Path file, Kind kind) {
        this.file = file;
        this.kind = kind;
    }

    Path file() {
        return file;
    }

    /** For children run by this very JVM (the process pool's case). */
    static ClassDataArchive forCommand(List<String> command) {
        Path dir = defaultDir();
        return dir == null ? null : forCommand(command, Runtime.version().feature(), dir);
    }

    /** {@code $TMPDIR/celeriac-cds-UID}: this user's own; null where there are no Unix user ids. */
    static Path defaultDir() {
        Long uid = currentUid();
        if (uid == null) {
            log.debug("no class-data archive for children: no Unix user id on this system");
            return null;
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "celeriac-cds-" + uid);
    }

    /** This process's user id, or null where there is none (not a Unix system). */
    static Long currentUid() {
        try {
            return new com.sun.security.auth.module.UnixSystem().getUid();
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }

    /**
     * Creates {@code dir} (mode 0700) if it does not exist, then checks it is a directory, not a
     * link, owned by this user, with mode 0700; false (one WARN line said, once per process) when it
     * is not, and then it must not be used.
     */
    static boolean privateDirectory(Path dir) {
        String wrong = notPrivate(dir);
        if (wrong != null && WARNED.add(dir.toAbsolutePath())) {
            log.warn("process pool: class-data archive directory {} {}; children start without an archive"
                    + " (remove it, or set worker_child_class_data_sharing: false)", dir, wrong);
        }
        return wrong == null;
    }

    private static final Set<Path> WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** What makes {@code dir} unfit for the archive (after creating it if missing), or null when it is fit. */
    private static String notPrivate(Path dir) {
        Set<PosixFilePermission> owner = PosixFilePermissions.fromString("rwx------");
        try {
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    Files.createDirectories(dir.toAbsolutePath().getParent());
                    Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(owner));
                    Files.setPosixFilePermissions(dir, owner); // the umask may have taken some away
                } catch (FileAlreadyExistsException raced) {
                    // made meanwhile, by another worker or someone else: checked below like any other
                }
            }
            PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            Object uid = Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            Long me = currentUid();
            return !a.isDirectory() ? (a.isSymbolicLink() ? "is a symbolic link" : "is not a directory")
                    : me == null || !(uid instanceof Integer u) || u.longValue() != me
                    ? "is owned by " + a.owner().getName() + " (uid " + uid + "), not by this user (uid " + me + ")"
                    : !a.permissions().equals(owner) ? "has mode " + PosixFilePermissions.toString(a.permissions()) + ", not rwx------"
                    : null;
        } catch (UnsupportedOperationException e) {
            return "has no POSIX owner and permissions";
        } catch (IOException e) {
            return "cannot be used (" + e + ")";
        }
    }

    /**
     * For children run by a JVM of feature version {@code javaFeature}, keeping the archive in
     * {@code dir}; null when there can be none: a JVM archives classes from jars only, so a class
     * path with directories (a build's target/classes, an IDE's output) gets none.
     */
    static ClassDataArchive forCommand(List<String> command, int javaFeature, Path dir) {
        int cp = Math.max(command.indexOf("-cp"), command.indexOf("-classpath"));
        String classPath = cp >= 0 && cp + 1 < command.size() ? command.get(cp + 1) : System.getProperty("java.class.path");
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(System.getProperty("java.home").getBytes(StandardCharsets.UTF_8));
            sha.update(Runtime.version().toString().getBytes(StandardCharsets.UTF_8));
            for (String part : command) {
                sha.update(part.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            // An archive only fits the very jars it was made from: a rebuilt jar needs a new one.
            for (String entry : classPath.split(java.io.File.pathSeparator)) {
                Path p = Path.of(entry);
                if (Files.isDirectory(p)) {
                    log.debug("no class-data archive for children: {} is a directory, not a jar", entry);
                    return null;
                }
                if (Files.exists(p)) {
                    sha.update((p.toAbsolutePath() + "|" + Files.size(p) + "|" + Files.getLastModifiedTime(p).toMillis())
                            .getBytes(StandardCharsets.UTF_8));
                }
            }
            Kind kind = Kind.of(javaFeature);
            String name = HexFormat.of().formatHex(sha.digest(), 0, 12);
            if (!privateDirectory(dir)) {
                return null;
            }
            return new ClassDataArchive(dir.resolve(name + kind.suffix), kind);
        } catch (IOException | NoSuchAlgorithmException | RuntimeException e) {
            log.debug("no class-data archive for children: {}", e.toString());
            return null;
        }
    }

    /** Archives of other builds or options not used for a week are removed (each is some megabytes). */
    private static void deleteStale(Path keep) {
        long weekAgo = System.currentTimeMillis() - java.util.concurrent.TimeUnit.DAYS.toMillis(7);
        try (var files = Files.list(keep.getParent())) {
            files.filter(p -> !p.equals(keep) && java.util.Arrays.stream(Kind.values()).anyMatch(k -> p.toString().endsWith(k.suffix)))
                    .forEach(p -> {
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

    /** {@code base} with the options that use the archive (Java 19–24: also keep it up to date). */
    List<String> command(List<String> base) {
        List<String> cmd = new ArrayList<>(base);
        if (!privateDirectory(file.getParent())) {
            return cmd; // changed since it was checked: not used
        }
        if (kind == Kind.AUTO) {
            cmd.add(1, "-XX:+AutoCreateSharedArchive");
            cmd.add(2, kind.useOption + file);
        } else if (Files.isRegularFile(file)) {
            cmd.add(1, kind.useOption + file);
        }
        return cmd;
    }

    /**
     * Java 17–18 and 25+: when there is no archive yet, makes one in the background with a child
     * that starts, loads the app and exits at once (the JVM writes the archive as it exits). Children
     * started meanwhile run without it. The returned thread is null when there is nothing to make.
     */
    Thread ensure(List<String> base, Map<String, Object> settings, Duration aliveTimeout) {
        if (kind == Kind.AUTO || Files.isRegularFile(file) || !privateDirectory(file.getParent())
                || !making.compareAndSet(false, true)) {
            return null;
        }
        Thread t = new Thread(() -> {
            Path tmp = file.resolveSibling(file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
            try {
                List<String> cmd = new ArrayList<>(base);
                cmd.add(1, kind.makeOption + tmp);
                ChildProcess c = ChildProcess.start(0, cmd, settings, aliveTimeout);
                c.retire();
                boolean exited = c.waitForExit(Duration.ofSeconds(60));
                if (exited && Files.isRegularFile(tmp)) {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    deleteStale(file);
                    log.info("process pool: class-data archive {} made; children start faster from now on", file);
                } else {
                    c.kill(Duration.ZERO);
                    log.info("process pool: no class-data archive ({}); children start without one",
                            exited ? "the JVM wrote none, " + c.exitDescription() : "the archiving child did not exit in time");
                }
            } catch (IOException | RuntimeException e) {
                log.info("process pool: no class-data archive ({}); children start without one", e.getMessage());
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
        return t;
    }
}
