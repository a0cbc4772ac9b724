package io.celeriac.manager;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * "Is a manager alive on this run directory?", answered by the OS rather than by files that can be
 * deleted or left behind: the live manager holds an exclusive lock on {@code run_dir/manager.lock}
 * ({@link FileChannel#tryLock()}, an fcntl lock on Linux) for as long as it runs, and the kernel
 * lets go of it when the process ends however it ends — kill -9 and the OOM killer included. The
 * file holds the holder's {@link ProcessId}; a manager that stops cleanly empties it, so content in a
 * file nobody holds names a manager that was killed. The control socket and the pid file are not
 * consulted for liveness: a deleted socket does not make a live manager look dead.
 */
public final class ManagerLock implements AutoCloseable {
    public static final String FILE = "manager.lock";
    /** The lock files this JVM holds: within one JVM a second channel on the file must not be opened (closing it would drop the lock). */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path path;
    private FileChannel channel;
    private FileLock lock;
    private Object fileKey;

    private ManagerLock(Path path, FileChannel channel, FileLock lock) {
        this.path = path;
        this.channel = channel;
        this.lock = lock;
        this.fileKey = fileKey(path);
    }

    private static Object fileKey(Path p) {
        try {
            return Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Takes the lock again if its file was deleted or replaced under this live manager (a tidy-up
     * of the run directory): otherwise the next {@code start} would not see it and start a second
     * manager. Returns false when another process has taken the new file first. Called by the
     * manager's loop; one stat when all is well.
     */
    public synchronized boolean ensureHeld() {
        Object now = fileKey(path);
        if (fileKey == null || fileKey.equals(now)) {
            return true;
        }
        try {
            Files.createDirectories(path.getParent());
            FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock l = lockAndName(ch);
            if (l == null) {
                return false;
            }
            FileChannel old = channel;
            channel = ch;
            lock = l;
            fileKey = fileKey(path);
            old.close(); // its file is gone; the lock on it with it
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The exclusive lock on {@code ch}'s file with this process named in it, or null (and {@code ch}
     * closed) when another manager holds it. A reader's probe (a shared lock held for an instant) may
     * be in the way: this tries for a second.
     */
    private static FileLock lockAndName(FileChannel ch) throws IOException {
        FileLock l = null;
        for (int i = 0; i < 20 && l == null; i++) {
            l = ch.tryLock();
            if (l == null) {
                sleep(50);
            }
        }
        if (l == null) {
            ch.close();
            return null;
        }
        ch.truncate(0);
        ch.write(ByteBuffer.wrap((ProcessId.current() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
        ch.force(true);
        return l;
    }

    private static Path path(Path runDir) {
        return runDir.toAbsolutePath().normalize().resolve(FILE);
    }

    /** Takes the lock for this process, or returns empty when another manager holds it. */
    public static Optional<ManagerLock> acquire(Path runDir) throws IOException {
        Path p = path(runDir);
        if (!HELD.add(p)) {
            return Optional.empty();
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock l = lockAndName(ch);
            if (l == null) {
                HELD.remove(p);
                return Optional.empty();
            }
            return Optional.of(new ManagerLock(p, ch, l));
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                ch.close();
            }
            HELD.remove(p);
            throw e;
        }
    }

    /**
     * The live manager on {@code runDir}: the process holding the lock. Its pid is read from the lock
     * file (or, while it is still being written, the pid file); 0 when neither names it yet.
     */
    public static Optional<ProcessId> holder(Path runDir) {
        Path p = path(runDir);
        if (HELD.contains(p)) {
            return Optional.of(ProcessId.current());
        }
        if (!Files.exists(p)) {
            return Optional.empty();
        }
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            FileLock probe;
            try {
                probe = ch.tryLock(0, Long.MAX_VALUE, true);
            } catch (OverlappingFileLockException e) {
                return Optional.of(ProcessId.current());
            }
            if (probe != null) {
                probe.release();
                return Optional.empty();
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        for (int i = 0; i < 20; i++) {
            Optional<ProcessId> id = content(p);
            if (id.isPresent()) {
                return id;
            }
            sleep(50);
        }
        try {
            return ProcessId.parse(Files.readString(runDir.resolve(Daemon.PID_FILE)))
                    .map(id -> ProcessId.of(id.pid()).orElse(id)).or(() -> Optional.of(new ProcessId(0, 0)));
        } catch (IOException e) {
            return Optional.of(new ProcessId(0, 0));
        }
    }

    /** The manager that held the lock last and did not let go of it cleanly (it was killed), when none holds it now. */
    public static Optional<ProcessId> killedHolder(Path runDir) {
        Path p = path(runDir);
        Optional<ProcessId> last = content(p);
        return last.isPresent() && holder(runDir).isEmpty() && !last.get().alive() ? last : Optional.empty();
    }

    private static Optional<ProcessId> content(Path p) {
        try {
            return ProcessId.parse(Files.readString(p, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Empties the file (a clean end) and lets go of the lock. */
    @Override
    public synchronized void close() {
        try {
            if (fileKey != null && fileKey.equals(fileKey(path))) {
                channel.truncate(0);
            }
            lock.release();
            channel.close();
        } catch (IOException e) {
            // the lock goes with the channel, or with the process
        } finally {
            HELD.remove(path);
        }
    }
}
