package io.celeriac.testkit;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.InMemoryBackend;
import io.celeriac.spi.ResultStore;
import java.time.Duration;

/** The in-memory backend (memory://) meets the same contract as the real brokers. */
class InMemoryConformanceTest extends ConformanceKit {
    private final InMemoryBackend provider = new InMemoryBackend();

    @Override
    protected Broker openBroker(Duration lease) {
        return provider.openBroker("memory://conformance", Config.builder().set(Settings.BROKER_RECOVERY_TIMEOUT, lease).build());
    }

    @Override
    protected ResultStore openResultStore(Duration expires) {
        return provider.openResultStore("memory://conformance", Config.builder().set(Settings.RESULT_EXPIRES, expires).build());
    }

    @Override
    protected Coordination openCoordination() {
        return provider.openCoordination("memory://conformance", Config.defaults());
    }
}
