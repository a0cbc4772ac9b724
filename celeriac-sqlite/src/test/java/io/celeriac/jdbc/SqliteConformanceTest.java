package io.celeriac.jdbc;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.ResultStore;
import io.celeriac.testkit.ConformanceKit;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;

/** The conformance kit against a real SQLite file. */
class SqliteConformanceTest extends ConformanceKit {
    @TempDir
    static Path dir;

    private final SqliteBackend provider = new SqliteBackend();

    private String url() {
        return "sqlite:" + dir.resolve("conformance.db");
    }

    @Override
    protected Broker openBroker(Duration lease) {
        return provider.openBroker(url(), Config.builder().set(Settings.BROKER_RECOVERY_TIMEOUT, lease).build());
    }

    @Override
    protected ResultStore openResultStore(Duration expires) {
        return provider.openResultStore(url(), Config.builder().set(Settings.RESULT_EXPIRES, expires).build());
    }

    @Override
    protected Coordination openCoordination() {
        return provider.openCoordination(url(), Config.defaults());
    }
}
