package io.celeriac.worker;

import io.celeriac.Apps;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * One life of the app inside a process-pool child: the app's classes, loaded by a class loader of
 * its own ({@code celeriac-app-N}, over the {@link AppClassPath#app} entries, parent-first so that
 * celeriac's API — {@code TaskContext}, {@code @Task}, Jackson — is the child's one copy), the
 * {@link TaskRegistry} they fill, the app's client, and the one thread tasks run on, whose context
 * class loader is the generation's.
 *
 * <p>{@link #close} drops all of it: the thread ends (so its thread locals go), the client closes,
 * the loader closes its jars, and once nothing else refers to them the app's classes, their statics
 * and whatever those reach are garbage. What survives a recycle: threads the app started and did
 * not stop (they keep the old generation's classes alive — {@link #strayThreads} names them), JVM-wide
 * registrations the app made (JDBC drivers, shutdown hooks, {@code System} properties, security
 * providers), native memory, and the statics of classes on the child's own class path.
 */
final class AppGeneration implements AutoCloseable {
    final int number;
    final TaskRegistry registry;
    final ChildMain.Lazy client;
    private final URLClassLoader loader; // null: the app is on the child's own class path (no split)
    private final ExecutorService thread;

    private AppGeneration(int number, TaskRegistry registry, ChildMain.Lazy client, URLClassLoader loader, ExecutorService thread) {
        this.number = number;
        this.registry = registry;
        this.client = client;
        this.loader = loader;
        this.thread = thread;
    }

    /** Loads the app afresh: in a loader over {@code appEntries}, or with the child's own loader when there are none. */
    static AppGeneration load(int number, Config config, WorkerOptions options, List<String> appEntries) {
        URLClassLoader loader = appEntries.isEmpty() ? null
                : new URLClassLoader("celeriac-app-" + number, urls(appEntries), AppGeneration.class.getClassLoader());
        ClassLoader context = loader != null ? loader : AppGeneration.class.getClassLoader();
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "celeriac-task-" + number);
            t.setContextClassLoader(context);
            t.setDaemon(true);
            return t;
        });
        try {
            // the app is loaded on its task thread, so a thread local it sets while registering is dropped with it
            TaskRegistry registry = thread.submit(() -> Apps.load(config, context)).get();
            ChildMain.Lazy client = new ChildMain.Lazy(config, registry);
            HealthCheckTask.register(registry, client, options);
            CeleryBuiltins.register(registry);
            return new AppGeneration(number, registry, client, loader, thread);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            thread.shutdownNow();
            throw new IllegalStateException("interrupted while loading the app");
        } catch (ExecutionException e) {
            thread.shutdownNow();
            closeQuietly(loader);
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r; // ConfigException: the one line that says what is wrong with the app
            }
            throw new IllegalStateException(cause);
        }
    }

    private static URL[] urls(List<String> entries) {
        List<URL> urls = new ArrayList<>();
        for (String e : entries) {
            try {
                urls.add(Path.of(e).toUri().toURL());
            } catch (MalformedURLException ex) {
                throw new IllegalArgumentException("class path entry " + e + ": " + ex.getMessage());
            }
        }
        return urls.toArray(URL[]::new);
    }

    /**
     * Runs {@code body} on this generation's task thread and waits for it; what it throws ends the
     * child as it did when tasks ran on the main thread (an {@code Error} as itself).
     */
    <T> T run(Callable<T> body) throws InterruptedException {
        Future<T> f = thread.submit(body);
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Threads still running whose context class loader is this generation's: the app started them and did not stop them. */
    List<String> strayThreads() {
        List<String> names = new ArrayList<>();
        if (loader == null) {
            return names;
        }
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getContextClassLoader() == loader && !t.getName().startsWith("celeriac-task-" + number)) {
                names.add(t.getName());
            }
        }
        return names;
    }

    /** Ends the task thread, closes the client and the loader. */
    @Override
    public void close() {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(5, TimeUnit.SECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
        client.close();
        closeQuietly(loader);
    }

    private static void closeQuietly(URLClassLoader loader) {
        if (loader != null) {
            try {
                loader.close();
            } catch (IOException e) {
                // its jars are closed when it is collected
            }
        }
    }
}
