package io.celeriac.worker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.Json;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process pool's recycling by class loader ({@code worker_max_tasks_per_child}): how a child is
 * started so that it can reload the app ({@link AppClassPath}), and a reload itself — the
 * {@code recycle} frame, then, off the slot thread, the child's {@code recycled} answer — after which
 * the child takes tasks again (see {@link AppGeneration} for what a reload frees).
 */
final class AppReloads implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("celeriac.worker");

    private final AppClassPath classPath; // null: no worker_max_tasks_per_child
    private final Duration timeout;
    private final Supplier<TaskObserver> observer;
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong strayThreads = new AtomicLong();
    private final ExecutorService waiting = Executors.newCachedThreadPool(ThreadPool.platformThreads("celeriac-pool-recycler-"));

    AppReloads(WorkerOptions options, Duration timeout, Supplier<TaskObserver> observer) {
        this.classPath = options.maxTasksPerChild() > 0
                ? AppClassPath.of(System.getProperty("java.class.path"), options.config().get(io.celeriac.config.Settings.APP)) : null;
        this.timeout = timeout;
        this.observer = observer;
        if (classPath != null && !classPath.splits()) {
            log.info("process pool: worker_max_tasks_per_child replaces the whole child JVM: {}", classPath.why());
        }
    }

    /** Whether worker_max_tasks_per_child reloads a child's app (rather than replacing its JVM). */
    boolean on() {
        return classPath != null && classPath.splits();
    }

    /** Whether worker_max_tasks_per_child has to replace JVMs: the app cannot be loaded apart from celeriac. */
    boolean replacesJvms() {
        return classPath != null && !classPath.splits();
    }

    /** A child's class path: the shared entries, and the app's in {@link ChildMain#APP_CLASS_PATH}; all of them without reloads. */
    void addClassPath(List<String> cmd) {
        if (on()) {
            cmd.add("-D" + ChildMain.APP_CLASS_PATH + "=" + classPath.appPath());
        }
        cmd.add("-cp");
        cmd.add(on() ? classPath.sharedPath() : System.getProperty("java.class.path"));
    }

    long count() {
        return count.get();
    }

    /** Threads the app left running that reloads found (each keeps an old load of the app in memory). */
    long strayThreads() {
        return strayThreads.get();
    }

    /** "class loader", "JVM", or "N/A" without worker_max_tasks_per_child (for the pool's stats). */
    String kind() {
        return classPath == null ? "N/A" : on() ? "class loader" : "JVM";
    }

    /**
     * Asks {@code c} to reload its app; {@code done} gets it back once it has (or the pool is
     * closing: then {@code closing} gets it), {@code failed} with the reason when it died or did not
     * answer within {@code worker_proc_alive_timeout} (killed by then).
     */
    void reload(ChildProcess c, String why, Consumer<ChildProcess> done, Consumer<ChildProcess> closing,
                BiConsumer<ChildProcess, String> failed) {
        try {
            c.send(Json.NODES.objectNode().put("op", "recycle"));
        } catch (IOException e) {
            c.kill(Duration.ZERO);
            failed.accept(c, "could not be recycled (" + c.exitDescription() + ")");
            return;
        }
        try {
            waiting.execute(() -> awaitReloaded(c, why, done, failed));
        } catch (RejectedExecutionException e) {
            closing.accept(c);
        }
    }

    private void awaitReloaded(ChildProcess c, String why, Consumer<ChildProcess> done, BiConsumer<ChildProcess, String> failed) {
        ObjectNode reply;
        try {
            do {
                reply = c.await(timeout);
            } while (reply != null && !ChildProcess.isGone(reply) && !"recycled".equals(reply.path("op").asText()));
        } catch (InterruptedException e) {
            c.kill(Duration.ZERO);
            failed.accept(c, "was stopped while reloading its app");
            return;
        }
        if (reply == null || ChildProcess.isGone(reply)) {
            if (reply == null) {
                c.kill(Duration.ZERO);
            }
            failed.accept(c, reply == null ? "did not reload its app within " + timeout.toSeconds() + " s"
                    : "died reloading its app (" + c.exitDescription() + ")");
            return;
        }
        c.generationTasks = 0;
        count.incrementAndGet();
        observer.get().pool(TaskObserver.PoolEvent.CHILD_RECYCLED, c.pid());
        log.debug("process pool: child {} (pid {}) {}: app reloaded (generation {}, {} ms)", c.index, c.pid(), why,
                reply.path("generation").asInt(), reply.path("ms").asLong());
        if (!reply.path("stray_threads").isEmpty()) {
            strayThreads.addAndGet(reply.path("stray_threads").size());
            log.warn("process pool: child {} (pid {}): threads the app started still run after its recycle, keeping the old"
                    + " app's classes in memory: {}; stop them in the task, or rely on worker_max_memory_per_child",
                    c.index, c.pid(), reply.path("stray_threads"));
        }
        done.accept(c);
    }

    @Override
    public void close() {
        waiting.shutdown(); // a child reloading its app exits when it has (it reads the exit frame next)
    }
}
