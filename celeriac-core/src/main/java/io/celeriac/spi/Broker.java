package io.celeriac.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The broker SPI: as small as kombu's channel. Routing, retries, dead letters and time limits are
 * written once above it; a broker only stores, leases and hands out opaque payloads.
 *
 * <p>Guarantees every implementation gives (checked by the conformance kit in celeriac-testkit):
 * <ul>
 *   <li>FIFO within one priority of one queue; a lower priority number is delivered first;</li>
 *   <li>a reserved message is held by exactly one consumer at a time;</li>
 *   <li>a message that is not acked is delivered again once its consumer's lease lapses
 *       (at-least-once), and never before;</li>
 *   <li>a message with an ETA is not delivered before it;</li>
 *   <li>payloads round-trip byte for byte (any Unicode, at least 1 MiB).</li>
 * </ul>
 * One Broker instance is one consumer identity: {@link #renew} renews the leases of everything
 * this instance has reserved. Instances are thread-safe.
 *
 * <p>Queue operations only (and the transport's two broadcasts, {@link #control} and
 * {@link #events}, which on AMQP are exchanges): worker presence, revocations, locks, records and
 * counters are {@link Coordination}'s, which may live elsewhere ({@code coordination_url}).
 */
public interface Broker extends AutoCloseable {

    /** Stores a message on a queue; with an ETA it is parked until then. */
    void publish(String queue, BrokerMessage message);

    /**
     * Stores many messages, in order, with as few round trips as the broker can (the SQL brokers:
     * one transaction, all or none). Each message leaves {@code publications} once it is stored, so
     * after a failure the list holds what is still to send and a retry sends only that; by default
     * one {@link #publish} after another.
     *
     * @param publications the messages and their queues; a mutable list, emptied as they are stored
     */
    default void publishAll(List<Publication> publications) {
        for (java.util.Iterator<Publication> it = publications.iterator(); it.hasNext(); ) {
            Publication p = it.next();
            publish(p.queue(), p.message());
            it.remove();
        }
    }

    /**
     * Reserves up to {@code max} messages from the given queues, waiting up to {@code wait} for at
     * least one. Returns an empty list when nothing came within the wait.
     */
    List<Delivery> reserve(List<String> queues, int max, Duration wait) throws InterruptedException;

    /** The message was handled: remove it for good. Acking a message twice is harmless. */
    void ack(List<Delivery> deliveries);

    /** Gives a reserved message back: it is ready again at once, for any consumer. */
    void requeue(Delivery delivery);

    /**
     * Renews the lease of every message this instance holds (and, where the broker keeps one, its
     * presence as a consumer of the queues it reserved from). Called by a worker at each heartbeat.
     */
    void renew();

    /**
     * This instance stops consuming for good (a worker going offline): where the broker keeps
     * consumer presence it ends now, not when it would lapse. Messages still held are not touched.
     */
    default void leave() {
    }

    /** Deletes the messages waiting on a queue (ready or parked for an ETA, not those reserved); returns how many. */
    long purge(String queue);

    /** How many messages wait on a queue: ready or parked for an ETA, not those reserved. */
    long size(String queue);

    /**
     * True when a client should put a task with an ETA on its queue at once, the ETA in its headers,
     * as Celery does on this broker, so that workers of any implementation see it (Python's hold it
     * until then; Celeriac's park it in the broker). False: the broker parks it itself.
     */
    default boolean etaOnQueue() {
        return false;
    }

    /**
     * How long a reservation holds a message: a message reserved (or renewed by {@link #renew})
     * by a call that started at time t is this consumer's until t + lease, by this broker's clock,
     * and may be another consumer's after that. A consumer that was paused (a GC pause, a frozen
     * VM, SIGSTOP) checks it before it starts a message it reserved ahead. Null: leases never lapse
     * while this instance lives.
     */
    default Duration lease() {
        return null;
    }

    /**
     * The broker's server lost its data while this instance used it (Redis restarted without
     * persistence: the queues, the in-flight records and the results it held are gone), or null.
     * Sticky: once seen it stays for this instance's life. Checked at each {@link #renew}.
     *
     * @param at when it was seen
     * @param message what happened, in one line naming the server (no password)
     * @param tags the delivery tags this instance held whose in-flight records were gone when it was seen
     */
    record DataLoss(Instant at, String message, java.util.Set<String> tags) {
    }

    /** See {@link DataLoss}; null when no loss was seen (and always on brokers that cannot tell). */
    default DataLoss dataLoss() {
        return null;
    }

    /** The URL this broker was opened with, without any password. */
    String describe();

    /**
     * The broadcast control channel (inspect and control requests to workers, and their replies).
     * By default one mailbox queue per worker on this broker, the workers found by their heartbeats
     * in {@code presence}; a broker with a native broadcast (Redis: Celery's pidbox) gives its own
     * and does not use it.
     *
     * @param presence where workers record their heartbeats (the deployment's coordination store)
     * @return the channel
     */
    default ControlChannel control(Coordination presence) {
        return new MailboxControl(this, presence);
    }

    /** A message waiting in the broker for its ETA (countdown, eta, or a retry's back-off). */
    record Scheduled(String payload, Instant due) {
    }

    /**
     * Up to {@code limit} messages of {@code queue} waiting for their ETA, soonest first: what
     * {@code inspect scheduled} shows (ETA tasks wait in the broker, never in a worker's memory).
     */
    List<Scheduled> scheduled(String queue, int limit);

    /**
     * Where events go (Celery's task-… and worker-… events); by default one queue per listener, the
     * listeners announced in {@code presence}; a broker with a native broadcast (Redis: Celery's
     * {@code celeryev}) gives its own and does not use it.
     *
     * @param presence where listeners announce themselves (the deployment's coordination store)
     * @return the channel
     */
    default EventChannel events(Coordination presence) {
        return new QueueEvents(this, presence);
    }

    @Override
    void close();
}
