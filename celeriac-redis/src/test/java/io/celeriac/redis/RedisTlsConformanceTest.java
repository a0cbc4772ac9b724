package io.celeriac.redis;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.celeriac.BrokerException;
import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.spi.Broker;
import io.celeriac.testkit.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit over TLS: a real redis-server that speaks only TLS, with a certificate from a
 * CA made by the test, reached by {@code rediss://127.0.0.1:PORT/0?ssl_ca_certs=ca.pem}.
 */
class RedisTlsConformanceTest extends RedisConformanceTest {
    static RedisServer tls;

    @BeforeAll
    static void startTls() throws Exception {
        tls = RedisServer.startTls(dir.resolve("tls"));
    }

    @AfterAll
    static void stopTls() throws Exception {
        tls.close();
    }

    @Override
    protected String url() {
        return "rediss://127.0.0.1:" + tls.port() + "/0?ssl_ca_certs=" + tls.caCertificate();
    }

    @Test
    void aServerWhoseCertificateIsNotTrustedIsRefusedWithAClearError() {
        try (Broker b = new RedisBackend().openBroker("rediss://127.0.0.1:" + tls.port() + "/0", Config.defaults())) {
            assertThatThrownBy(() -> b.size("q")).isInstanceOf(BrokerException.class).hasMessageContaining("rediss://127.0.0.1:");
        }
    }

    @Test
    void badTlsOptionsAreConfigurationErrors() {
        assertThatThrownBy(() -> RedisConnection.parse("rediss://127.0.0.1:1/0?ssl_cert_reqs=maybe"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("ssl_cert_reqs must be required or none");
        assertThatThrownBy(() -> RedisConnection.parse("rediss://127.0.0.1:1/0?sslmode=on"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("unknown option 'sslmode'");
    }
}
