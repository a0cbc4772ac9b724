package io.celeriac.spring;

import io.celeriac.Celeriac;
import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.worker.Worker;
import io.celeriac.worker.WorkerOptions;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * The worker inside a Spring application ({@code celeriac.worker.enabled=true}): a thread pool that
 * runs the registered tasks, the {@code @Task} methods of the application's beans among them. It
 * follows the application context: it starts once every bean is ready and, when the context
 * closes, shuts down warmly (reserves nothing more, gives buffered messages back, lets running
 * tasks finish and record) within {@code spring.lifecycle.timeout-per-shutdown-phase}; what is still
 * running just before that is given back to the broker (cold shutdown), to run again later.
 * Nothing is lost either way: a message is acknowledged only with its result.
 */
public final class EmbeddedWorker implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger("celeriac.spring");
    /** Left of the shutdown phase's time-out for the cold shutdown, when the warm one did not end in time. */
    private static final Duration COLD_MARGIN = Duration.ofSeconds(2);

    private final Celeriac app;
    private final Worker worker;
    private final Duration phaseTimeout;
    private volatile boolean running;

    /**
     * @param app          the application's client: the worker shares its broker and result store
     * @param meters       where the worker's meters also go (Spring's registry), or null
     * @param phaseTimeout {@code spring.lifecycle.timeout-per-shutdown-phase}
     * @throws ConfigException {@code worker_pool: process}, which a Spring application cannot run
     */
    public EmbeddedWorker(Celeriac app, MeterRegistry meters, Duration phaseTimeout) {
        this.app = app;
        this.phaseTimeout = phaseTimeout;
        Config config = threadPool(app.config());
        this.worker = new Worker(WorkerOptions.from(config), app.registry(), app.broker(), app.results(), Clock.systemUTC());
        if (meters != null) {
            worker.bindMeters(meters);
        }
    }

    /**
     * The embedded worker runs threads. The process pool starts child JVMs that find the tasks through
     * {@code app} (a {@code CeleriacApp} on the class path); a bean's {@code @Task} method and its
     * injected dependencies exist only in this application context, so they cannot: said at startup,
     * not at the first task.
     */
    static Config threadPool(Config config) {
        if ("default".equals(config.source(Settings.WORKER_POOL))) {
            return config.toBuilder().set(Settings.WORKER_POOL, "threads").build();
        }
        if ("process".equals(config.get(Settings.WORKER_POOL))) {
            throw new ConfigException("celeriac.worker-pool=process (" + config.source(Settings.WORKER_POOL) + ") cannot run inside"
                    + " a Spring application: its child processes do not have the application's beans. Use"
                    + " celeriac.worker-pool=threads (the default here), or run 'celeriac worker' with a plain CeleriacApp"
                    + " for a process pool");
        }
        return config;
    }

    /** @return the worker (its stats, its node name) */
    public Worker worker() {
        return worker;
    }

    /** @return the client it runs for */
    public Celeriac app() {
        return app;
    }

    @Override
    public void start() {
        worker.start();
        running = true;
    }

    @Override
    public void stop() {
        stop(() -> {
        });
    }

    @Override
    public void stop(Runnable callback) {
        if (!running) {
            callback.run();
            return;
        }
        worker.shutdown();
        Thread t = new Thread(() -> {
            try {
                Duration warm = phaseTimeout.compareTo(COLD_MARGIN.multipliedBy(2)) > 0 ? phaseTimeout.minus(COLD_MARGIN)
                        : phaseTimeout.dividedBy(2);
                if (!worker.awaitTermination(warm)) {
                    log.warn("{}: tasks still running near spring.lifecycle.timeout-per-shutdown-phase ({} s): giving them back"
                            + " to the broker", worker.nodeName(), phaseTimeout.toSeconds());
                    worker.shutdownNow();
                    worker.awaitTermination(phaseTimeout.minus(warm));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                running = false;
                callback.run();
            }
        }, "celeriac-spring-shutdown");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stops after the web server's graceful shutdown (no new requests), and before any bean (a data source) is destroyed. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 2048;
    }
}
