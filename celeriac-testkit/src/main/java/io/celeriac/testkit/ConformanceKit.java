package io.celeriac.testkit;

import io.celeriac.spi.Broker;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.ResultStore;
import java.time.Duration;
import org.junit.jupiter.api.Nested;

/**
 * The three contracts at once, for a backend that is broker, coordination store and result store
 * on one URL (memory, SQLite, PostgreSQL, Redis): a module subclasses this once and supplies the
 * three {@code open} methods; JUnit runs {@link Queues}, {@link Coordinating} and {@link Results}
 * as nested classes of that subclass. A broker with queues only (RabbitMQ) subclasses
 * {@link BrokerConformanceTest} alone. {@link ProviderConformanceKit} opens the three from a backend's provider and URL.
 */
public abstract class ConformanceKit {

    /** A subclass supplies the store. */
    protected ConformanceKit() {
    }

    /**
     * @param lease how long a reservation holds a message
     * @return a new consumer identity on the shared store
     */
    protected abstract Broker openBroker(Duration lease);

    /**
     * @param expires how long a stored result is kept
     * @return a result store on the shared store
     */
    protected abstract ResultStore openResultStore(Duration expires);

    /** @return presence, revocations, locks, records and counters on the shared store */
    protected abstract Coordination openCoordination();

    /** The broker contract on this backend. */
    @Nested
    public class Queues extends BrokerConformanceTest {
        @Override
        protected Broker openBroker(Duration lease) {
            return ConformanceKit.this.openBroker(lease);
        }
    }

    /** The coordination contract on this backend. */
    @Nested
    public class Coordinating extends CoordinationConformanceTest {
        @Override
        protected Broker openBroker(Duration lease) {
            return ConformanceKit.this.openBroker(lease);
        }

        @Override
        protected Coordination openCoordination() {
            return ConformanceKit.this.openCoordination();
        }
    }

    /** The result-store contract on this backend. */
    @Nested
    public class Results extends ResultStoreConformanceTest {
        @Override
        protected Broker openBroker(Duration lease) {
            return ConformanceKit.this.openBroker(lease);
        }

        @Override
        protected ResultStore openResultStore(Duration expires) {
            return ConformanceKit.this.openResultStore(expires);
        }
    }
}
