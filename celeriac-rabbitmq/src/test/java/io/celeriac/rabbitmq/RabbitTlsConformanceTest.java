package io.celeriac.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.celeriac.BrokerException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.spi.Backends;
import io.celeriac.spi.Broker;
import io.celeriac.testkit.BrokerConformanceTest;
import io.celeriac.testkit.RabbitNode;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The broker contract over TLS: {@code amqps://127.0.0.1:PORT//?ssl_ca_certs=ca.pem} against a
 * private node whose certificate is signed by a CA the test makes.
 */
class RabbitTlsConformanceTest extends BrokerConformanceTest {
    private static RabbitNode node;

    @BeforeAll
    static void start() throws Exception {
        node = RabbitNode.launchTls();
    }

    @AfterAll
    static void stop() throws Exception {
        node.close();
    }

    @Override
    protected Broker openBroker(Duration lease) {
        return RabbitConformanceTest.open(node.tlsUrl(), "memory://rabbit-tls-conformance", lease);
    }

    @Test
    void aServerWhoseCertificateIsNotTrustedIsRefused() {
        String url = node.tlsUrl().substring(0, node.tlsUrl().indexOf('?'));
        try (Broker b = Backends.openBroker(Config.builder().set(Settings.BROKER_URL, url).build())) {
            assertThatThrownBy(() -> b.size("x")).isInstanceOf(BrokerException.class);
        }
        try (Broker b = Backends.openBroker(Config.builder().set(Settings.BROKER_URL, url + "?ssl_cert_reqs=none").build())) {
            assertThat(b.size("x")).isZero();
            assertThat(b.describe()).startsWith("amqps://guest@127.0.0.1:");
        }
    }
}
