package io.celeriac.jdbc;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.celeriac.BrokerException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.ResultStore;
import io.celeriac.testkit.ConformanceKit;
import io.celeriac.testkit.PostgresServer;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The conformance kit against a real PostgreSQL server this test starts on a free port. */
class PostgresConformanceTest extends ConformanceKit {
    static PostgresServer pg;

    private final PostgresBackend provider = new PostgresBackend();

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = PostgresServer.launch();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        pg.close();
    }

    /** Beyond the kit: what a wait will not mend is an error at once, with the server's reason. */
    @Test
    void aWrongDatabaseOrUserIsAClearErrorAtOnceNotAnOutage() {
        String wrongDb = "postgresql://postgres@127.0.0.1:" + pg.port() + "/nosuchdb";
        assertThatThrownBy(() -> provider.openBroker(wrongDb, Config.defaults())).isInstanceOf(BrokerException.class)
                .hasMessageContaining("database \"nosuchdb\" does not exist")
                .matches(e -> !((BrokerException) e).recoverable(), "not recoverable");
        String wrongUser = "postgresql://nobody@127.0.0.1:" + pg.port() + "/postgres";
        assertThatThrownBy(() -> provider.openResultStore(wrongUser, Config.defaults())).isInstanceOf(BrokerException.class)
                .hasMessageContaining("role \"nobody\" does not exist");
    }

    @Override
    protected Broker openBroker(Duration lease) {
        return provider.openBroker(pg.url(), Config.builder().set(Settings.BROKER_RECOVERY_TIMEOUT, lease).build());
    }

    @Override
    protected ResultStore openResultStore(Duration expires) {
        return provider.openResultStore(pg.url(), Config.builder().set(Settings.RESULT_EXPIRES, expires).build());
    }

    @Override
    protected Coordination openCoordination() {
        return provider.openCoordination(pg.url(), Config.defaults());
    }
}
