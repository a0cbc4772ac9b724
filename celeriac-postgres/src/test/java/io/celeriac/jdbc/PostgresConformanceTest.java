package io.celeriac.jdbc;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.celeriac.BrokerException;
import io.celeriac.config.Config;
import io.celeriac.testkit.ProviderConformanceKit;
import io.celeriac.testkit.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The conformance kit against a real PostgreSQL server this test starts on a free port. */
class PostgresConformanceTest extends ProviderConformanceKit {
    static PostgresServer pg;

    private final PostgresBackend provider = new PostgresBackend();

    @Override
    protected PostgresBackend provider() {
        return provider;
    }

    @Override
    protected String url() {
        return pg.url();
    }

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
}
