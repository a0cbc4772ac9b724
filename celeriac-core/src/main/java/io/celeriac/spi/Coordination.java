package io.celeriac.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What processes sharing a deployment need to agree on, beside messages: worker presence
 * (heartbeats), revocations, a leader lock with a lease, small named records (beat's last runs, the
 * last health check) and atomic counters. Opened from {@code coordination_url} (default: the result
 * backend's URL, else the broker's), so a broker that has only queues (RabbitMQ) can be paired with
 * a store that has the rest. Each store gives these with its own primitive (a row in a transaction,
 * a Redis key with an expiry, …). On Redis, presence and revocations are where Celeriac's tools and
 * workers have always looked ({@code celeriac.nodes}, {@code celeriac.revoked}).
 *
 * <p>The fenced {@link #publishIfHolder} is what lets a scheduler fire exactly once: when the
 * broker is on this same store the message and the record of having sent it are written together,
 * and only while the sender still holds the lock, so neither a crash in between nor a deposed leader
 * can duplicate or lose a firing. Instances are thread-safe.
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
     * If {@code owner} holds {@code lock}: publishes {@code message} on {@code queue} of
     * {@code broker} (when not null) and writes {@code key = value}, and returns true. Otherwise does
     * nothing and returns false. When {@code broker} keeps its messages in this same store the two
     * writes are one atomic step; otherwise the message is published first, while the lock is seen
     * held, and the record written after it (a crash in between fires that slot again on restart:
     * at least once, never skipped).
     */
    boolean publishIfHolder(String lock, String owner, Broker broker, String queue, BrokerMessage message, String key,
                            String value);

    /**
     * Records this node's heartbeat ({@code heartbeatJson}); a null heartbeat removes the node's
     * record (it went offline).
     */
    void keepAlive(String node, String heartbeatJson);

    /** The latest heartbeat of every node that recorded one. */
    Map<String, NodeBeat> nodes();

    /**
     * Records that a task must not run, until {@code expires}: workers check before they start a
     * task, and stop a running one when {@code terminate} is set. Revoking again with terminate
     * upgrades the record.
     */
    void revoke(String taskId, boolean terminate, Instant expires);

    /** Revocations recorded at or after {@code since} that have not expired, oldest first. */
    List<Revocation> revocations(Instant since);

    /**
     * Adds {@code delta} to the counter {@code key} atomically (a missing or expired counter is 0)
     * and returns its new value; the counter expires {@code ttl} after this call (null: never).
     * For counts shared by processes (chord parts, rate limits) on stores whose broker has no place
     * for them.
     */
    long increment(String key, long delta, Duration ttl);

    /**
     * {@link #publishIfHolder} for a broker on another store, written once: if {@code owner} holds
     * {@code lock}, publishes on {@code broker} first, then writes the record. Not atomic.
     *
     * @param coordination the store holding the lock and the record
     * @param lock         the lock
     * @param owner        who must hold it
     * @param broker       where the message goes
     * @param queue        its queue
     * @param message      the message, or null for the record only
     * @param key          the record's name
     * @param value        its value
     * @return whether {@code owner} held the lock (and so published and recorded)
     */
    static boolean publishThenRecord(Coordination coordination, String lock, String owner, Broker broker, String queue,
                                     BrokerMessage message, String key, String value) {
        if (!coordination.holder(lock).filter(owner::equals).isPresent()) {
            return false;
        }
        if (message != null) {
            broker.publish(queue, message);
        }
        coordination.put(key, value);
        return true;
    }

    @Override
    void close();
}
