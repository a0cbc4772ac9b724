package io.celeriac.rabbitmq;

import io.celeriac.BrokerException;
import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Secrets;
import io.celeriac.config.Settings;
import io.celeriac.spi.Backends;
import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Delivery;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where messages wait for their ETA (countdown, eta, a retry's back-off) while the broker is
 * RabbitMQ: in the coordination store ({@code coordination_url}, else the result backend), on the
 * queue {@code celeriac.eta.<queue>} of that store's own broker (Redis's delayed index, the SQL
 * table's {@code available_at}). Nothing waits in a worker's memory or unacked on RabbitMQ (where
 * {@code consumer_timeout} would close the channel after 30 minutes); {@code inspect scheduled},
 * {@code size} and {@code purge} see parked messages; a message due is moved by whichever Celeriac
 * consumer of its queue looks next: published to RabbitMQ with a confirm, then acked in the
 * store, so a mover that dies in between leaves it to be moved again (at least once: only a crash
 * between the confirm and the ack, a few milliseconds, could move it twice).
 *
 * <p>The stored payload is {@code <priority>|<payload>}, so the priority survives the wait.
 */
final class EtaPark implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("celeriac.broker");
    static final String PREFIX = "celeriac.eta.";
    private static final Set<String> AMQP = Set.of("amqp", "amqps", "pyamqp");
    /** How often a consumer looks for due messages. */
    static final long MOVE_EVERY_MS = 200;

    private final Config config;
    private final String storeUrl;
    private volatile Broker store;
    private volatile boolean warned;
    private volatile long lastMove;

    EtaPark(Config config) {
        this.config = config;
        String url = Backends.coordinationUrl(config);
        int colon = url.indexOf(':');
        String scheme = colon < 0 ? "" : url.substring(0, colon).toLowerCase(java.util.Locale.ROOT);
        this.storeUrl = AMQP.contains(scheme) ? null : url;
    }

    /** Why there is no store, in one line. */
    static String noStore(String url) {
        return "broker_url '" + Secrets.redact(url) + "' is RabbitMQ, which keeps queues only: set result_backend or"
                + " coordination_url to a Redis or SQL store (redis://, postgresql://, sqlite:) for presence,"
                + " revocations, locks and messages waiting for their ETA";
    }

    private Broker store() {
        Broker s = store;
        if (s == null) {
            if (storeUrl == null) {
                throw new ConfigException(noStore(config.get(Settings.BROKER_URL)));
            }
            synchronized (this) {
                if (store == null) {
                    store = Backends.openBroker(config.toBuilder().set(Settings.BROKER_URL, storeUrl).build());
                }
                s = store;
            }
        }
        return s;
    }

    void park(String queue, BrokerMessage m) {
        store().publish(PREFIX + queue, new BrokerMessage(m.taskId(), m.priority() + "|" + m.payload(), m.priority(), m.eta()));
    }

    /**
     * Moves the due messages of {@code queues} to RabbitMQ with {@code publish}, at most every
     * {@link #MOVE_EVERY_MS}.
     */
    void move(List<String> queues, BiConsumer<String, BrokerMessage> publish) {
        long now = System.currentTimeMillis();
        if (storeUrl == null || now - lastMove < MOVE_EVERY_MS) {
            return;
        }
        lastMove = now;
        List<String> names = new ArrayList<>();
        queues.forEach(q -> names.add(PREFIX + q));
        List<Delivery> due;
        try {
            due = store().reserve(names, 100, Duration.ZERO);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (BrokerException | ConfigException e) {
            if (!warned) {
                warned = true;
                log.warn("cannot look for messages due in {}: {}", Secrets.redact(storeUrl), e.getMessage());
            }
            return;
        }
        warned = false;
        for (Delivery d : due) {
            String payload = d.payload();
            int bar = payload.indexOf('|');
            int priority = bar > 0 ? Integer.parseInt(payload.substring(0, bar)) : 0;
            publish.accept(d.queue().substring(PREFIX.length()), new BrokerMessage(null, payload.substring(bar + 1), priority, null));
            store.ack(List.of(d));
        }
    }

    long size(String queue) {
        return storeUrl == null ? 0 : store().size(PREFIX + queue);
    }

    long purge(String queue) {
        return storeUrl == null ? 0 : store().purge(PREFIX + queue);
    }

    List<Broker.Scheduled> scheduled(String queue, int limit) {
        if (storeUrl == null) {
            return List.of();
        }
        return store().scheduled(PREFIX + queue, limit).stream()
                .map(s -> new Broker.Scheduled(s.payload().substring(s.payload().indexOf('|') + 1), s.due())).toList();
    }

    void renew() {
        Broker s = store;
        if (s != null) {
            s.renew();
        }
    }

    @Override
    public void close() {
        Broker s = store;
        if (s != null) {
            s.close();
        }
    }
}
