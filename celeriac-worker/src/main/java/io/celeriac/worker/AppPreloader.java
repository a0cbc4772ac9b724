package io.celeriac.worker;

import io.celeriac.config.Config;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Loads a child's next {@link AppGeneration} ahead, on a low-priority thread, while the current one
 * runs tasks: a recycle then only swaps them, and the child is back in the pool within a
 * millisecond or two instead of stalling its slot for a load. The next generation's app is
 * loaded and registered (its static initialisers have run) but has run no task.
 */
final class AppPreloader {
    private final Config config;
    private final WorkerOptions options;
    private final List<String> appEntries;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "celeriac-app-preload");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.setContextClassLoader(AppPreloader.class.getClassLoader());
        return t;
    });
    private CompletableFuture<AppGeneration> next;

    AppPreloader(Config config, WorkerOptions options, List<String> appEntries) {
        this.config = config;
        this.options = options;
        this.appEntries = appEntries;
    }

    /** Starts loading generation {@code number}, unless one is being loaded already. */
    synchronized void start(int number) {
        if (next == null) {
            next = CompletableFuture.supplyAsync(() -> AppGeneration.load(number, config, options, appEntries), thread);
        }
    }

    /** The generation loaded ahead (started now if it was not), waiting for it; its load's exception if it failed. */
    AppGeneration take(int number) throws InterruptedException {
        CompletableFuture<AppGeneration> f;
        synchronized (this) {
            start(number);
            f = next;
            next = null;
        }
        try {
            return f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }
}
