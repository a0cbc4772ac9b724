package io.celeriac.testkit;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.spi.BackendProvider;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.ResultStore;
import java.time.Duration;

/**
 * The {@link ConformanceKit} for a backend opened as a user opens it: its {@link BackendProvider}
 * and URL, the lease as {@code broker_recovery_timeout} and the expiry as {@code result_expires}. A
 * module names the two; the kit opens the three stores from them.
 */
public abstract class ProviderConformanceKit extends ConformanceKit {

    /** A subclass names the backend. */
    protected ProviderConformanceKit() {
    }

    /** @return the backend's provider */
    protected abstract BackendProvider provider();

    /** @return the URL every store of the kit is opened on */
    protected abstract String url();

    @Override
    protected Broker openBroker(Duration lease) {
        return provider().openBroker(url(), Config.builder().set(Settings.BROKER_RECOVERY_TIMEOUT, lease).build());
    }

    @Override
    protected ResultStore openResultStore(Duration expires) {
        return provider().openResultStore(url(), Config.builder().set(Settings.RESULT_EXPIRES, expires).build());
    }

    @Override
    protected Coordination openCoordination() {
        return provider().openCoordination(url(), Config.defaults());
    }
}
