package io.celeriac.spi;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * What processes sharing a broker need to agree on, beside messages: a leader lock with a lease,
 * and small named records (beat's last runs, the last health check). Each broker gives these with
 * its own primitive (a row in a transaction, a Redis key with an expiry, …).
 *
 * <p>The fenced {@link #publishIfHolder} is what lets a scheduler fire exactly once: the message
 * and the record of having sent it are written together, and only while the sender still holds the
 * lock, so neither a crash in between nor a deposed leader can duplicate or lose a firing.
 */
public interface Coordination extends AutoCloseable {

    /**
     * Takes {@code lock} for {@code owner}, or renews it when {@code owner} already holds it, for
     * {@code lease}. Returns whether {@code owner} holds it now. A lock whose lease ran out is free.
     */
    boolean tryLock(String lock, String owner, Duration lease);

    /** Releases {@code lock} if {@code owner} holds it. */
    void unlock(String lock, String owner);

    /** Who holds {@code lock} now, if anyone. */
    Optional<String> holder(String lock);

    /** The record named {@code key}, if any. */
    Optional<String> get(String key);

    /** Every record whose name starts with {@code prefix}. */
    Map<String, String> getAll(String prefix);

    /** Writes a record. */
    void put(String key, String value);

    /**
     * If {@code owner} holds {@code lock}: publishes {@code message} on {@code queue} (when not null)
     * and writes {@code key = value}, as one atomic step, and returns true. Otherwise does nothing
     * and returns false.
     */
    boolean publishIfHolder(String lock, String owner, String queue, BrokerMessage message, String key, String value);

    @Override
    void close();
}
