package io.celeriac.rabbitmq;

import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.spi.BackendProvider;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.ResultStore;
import java.util.Set;

/**
 * {@code amqp://}, {@code amqps://}, {@code pyamqp://}: the broker on RabbitMQ. RabbitMQ keeps
 * queues only: results, coordination (presence, revocations, locks) and messages waiting for an
 * ETA live in the store named by {@code result_backend} / {@code coordination_url} (Redis or SQL);
 * naming RabbitMQ for those is a configuration error, told in one line.
 */
public final class RabbitBackend implements BackendProvider {
    /** The provider found by {@link java.util.ServiceLoader}. */
    public RabbitBackend() {
    }

    @Override
    public Set<String> schemes() {
        return Set.of("amqp", "amqps", "pyamqp");
    }

    @Override
    public Broker openBroker(String url, Config config) {
        return new RabbitBroker(new RabbitConnection(AmqpUrl.parse(url)), config);
    }

    @Override
    public ResultStore openResultStore(String url, Config config) {
        throw new ConfigException(EtaPark.noStore(url));
    }

    @Override
    public Coordination openCoordination(String url, Config config) {
        throw new ConfigException(EtaPark.noStore(url));
    }
}
