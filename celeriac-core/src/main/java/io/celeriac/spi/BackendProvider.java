package io.celeriac.spi;

import io.celeriac.config.Config;
import java.util.Set;

/**
 * Opens brokers and result stores for some URL schemes. Broker modules list theirs in
 * {@code META-INF/services/io.celeriac.spi.BackendProvider}; {@link Backends} picks one by scheme.
 */
public interface BackendProvider {

    /** URL schemes served, e.g. {@code sqlite}. */
    Set<String> schemes();

    Broker openBroker(String url, Config config);

    ResultStore openResultStore(String url, Config config);

    /** Locks and records on the broker's store (used by beat and the health check). */
    Coordination openCoordination(String url, Config config);

    /** The task history kept beside the results at {@code url} (the result backend's URL). */
    default TaskHistory openTaskHistory(String url, Config config) {
        throw new io.celeriac.ConfigException("result_backend '" + io.celeriac.config.Secrets.redact(url)
                + "' cannot keep a task history; set task_history to false");
    }
}
