package io.celeriac.rabbitmq;

import com.rabbitmq.client.Channel;
import io.celeriac.spi.Delivery;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The deliveries one consumer holds unacknowledged, each with a lease: acked, given back
 * ({@code basic.nack} with requeue), renewed all at once; one whose lease lapsed (its holder
 * stopped renewing: a stuck worker) is given back by a timer, as the other brokers' leases lapse.
 * A consumer that dies needs none of this: RabbitMQ takes its deliveries back when its channel
 * closes. After a reconnection the old deliveries are void (RabbitMQ requeued them) and forgotten.
 */
final class Holdings implements AutoCloseable {
    private final RabbitConnection conn;
    private final Object lock;
    private final Duration lease;
    private final Map<String, Held> held = new ConcurrentHashMap<>();
    private final ScheduledExecutorService reaper;

    /** A delivery held: its channel's tag and when its lease lapses. */
    private static final class Held {
        final Channel channel;
        final long amqpTag;
        volatile long deadline;

        Held(Channel channel, long amqpTag, long deadline) {
            this.channel = channel;
            this.amqpTag = amqpTag;
            this.deadline = deadline;
        }
    }

    /**
     * @param conn  the connection
     * @param lock  guards the consumer's channel
     * @param lease how long a delivery is held without renewal
     */
    Holdings(RabbitConnection conn, Object lock, Duration lease) {
        this.conn = conn;
        this.lock = lock;
        this.lease = lease;
        conn.onRecovery(held::clear);
        this.reaper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "celeriac-rabbit-leases");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(50, Math.min(1000, lease.toMillis() / 4));
        reaper.scheduleWithFixedDelay(this::giveBackLapsed, every, every, TimeUnit.MILLISECONDS);
    }

    /** Holds delivery {@code amqpTag} of {@code channel}; returns it as the worker sees it. */
    Delivery hold(Channel channel, long amqpTag, String queue, String payload, int deliveryCount) {
        String tag = System.identityHashCode(channel) + ":" + amqpTag;
        held.put(tag, new Held(channel, amqpTag, System.nanoTime() + lease.toNanos()));
        return new Delivery(queue, payload, tag, deliveryCount);
    }

    void ack(List<Delivery> deliveries) {
        for (Delivery d : deliveries) {
            Held h = held.remove(d.tag());
            if (h != null && h.channel.isOpen()) {
                conn.call("ack", h.channel, c -> {
                    synchronized (lock) {
                        c.basicAck(h.amqpTag, false);
                    }
                    return null;
                });
            }
        }
    }

    void requeue(Delivery delivery) {
        Held h = held.remove(delivery.tag());
        if (h != null) {
            giveBack(h);
            // a round trip on the same channel: the server has handled the nack when this returns, so
            // the message is ready for others (and counted by size) when requeue returns
            conn.call("give a message back", h.channel, c -> {
                synchronized (lock) {
                    if (c.isOpen()) {
                        c.basicQos(1, false);
                    }
                }
                return null;
            });
        }
    }

    void renew() {
        long deadline = System.nanoTime() + lease.toNanos();
        held.values().forEach(h -> h.deadline = deadline);
    }

    private void giveBack(Held h) {
        if (h.channel.isOpen()) {
            conn.call("give a message back", h.channel, c -> {
                synchronized (lock) {
                    c.basicNack(h.amqpTag, false, true);
                }
                return null;
            });
        }
    }

    private void giveBackLapsed() {
        long now = System.nanoTime();
        held.forEach((tag, h) -> {
            if (now - h.deadline > 0 && held.remove(tag, h)) {
                try {
                    giveBack(h);
                } catch (RuntimeException e) {
                    // the connection is down: the server has taken it back already
                }
            }
        });
    }

    @Override
    public void close() {
        reaper.shutdownNow();
    }
}
