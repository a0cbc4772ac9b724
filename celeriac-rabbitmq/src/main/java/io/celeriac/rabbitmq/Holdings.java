package io.celeriac.rabbitmq;

import com.rabbitmq.client.Channel;
import io.celeriac.spi.Delivery;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
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
 *
 * <p>The acks of a batch go out as few frames as their delivery tags allow: the run of a channel's
 * lowest held tags that are all in the batch in one {@code basic.ack} with {@code multiple}, the
 * rest one by one. Each channel's held tags are kept (under the channel's lock, where every ack and
 * nack is sent), and a tag is noted the moment it arrives ({@link #open}: a consumer's buffered
 * deliveries too, not yet handed out), before any higher one, so a multiple ack never covers a
 * delivery that is not the worker's to ack.
 */
final class Holdings implements AutoCloseable {
    private final RabbitConnection conn;
    private final Object lock;
    private final Duration lease;
    private final Map<String, Held> held = new ConcurrentHashMap<>();
    /** Each channel's held tags, lowest first; guarded by {@link #lock}. */
    private final Map<Channel, TreeSet<Long>> open = new IdentityHashMap<>();
    private final RabbitConnection.Op<?> sync;
    private final java.util.function.BiConsumer<String, Boolean> quiet;
    private final ScheduledExecutorService reaper;

    /** A delivery held: its channel's tag and when its lease lapses. */
    private static final class Held {
        final Channel channel;
        final long amqpTag;
        final String queue;
        volatile long deadline;

        Held(Channel channel, long amqpTag, String queue, long deadline) {
            this.channel = channel;
            this.amqpTag = amqpTag;
            this.queue = queue;
            this.deadline = deadline;
        }
    }

    /**
     * @param conn  the connection
     * @param lock  guards the consumer's channel
     * @param lease how long a delivery is held without renewal
     * @param sync  a round trip on a channel (the server has handled what was sent before on it)
     * @param quiet stops the consumer of a queue before a message of it is given back, so that the
     *              message is free for any consumer: (queue, true) when a lease lapsed (the holder is
     *              stuck: what was pushed to it but not taken goes back too), (queue, false) for a requeue
     */
    Holdings(RabbitConnection conn, Object lock, Duration lease, RabbitConnection.Op<?> sync,
            java.util.function.BiConsumer<String, Boolean> quiet) {
        this.conn = conn;
        this.lock = lock;
        this.lease = lease;
        this.sync = sync;
        this.quiet = quiet;
        conn.onRecovery(() -> {
            held.clear();
            synchronized (lock) {
                open.clear();
            }
        });
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
        synchronized (lock) {
            open(channel, amqpTag);
        }
        held.put(tag, new Held(channel, amqpTag, queue, System.nanoTime() + lease.toNanos()));
        return new Delivery(queue, payload, tag, deliveryCount);
    }

    /**
     * Notes delivery {@code amqpTag} of {@code channel} as unacked, not yet handed out (a consumer's
     * buffer): no multiple ack covers it. Under {@link #lock}.
     */
    void open(Channel channel, long amqpTag) {
        if (!open.containsKey(channel)) {
            open.keySet().removeIf(c -> !c.isOpen()); // a closed one's deliveries went back
        }
        open.computeIfAbsent(channel, c -> new TreeSet<>()).add(amqpTag);
    }

    /** Delivery {@code amqpTag} of {@code channel} was acked or given back without being handed out. Under {@link #lock}. */
    void drop(Channel channel, long amqpTag) {
        TreeSet<Long> mine = open.get(channel);
        if (mine != null) {
            mine.remove(amqpTag);
        }
    }

    void ack(List<Delivery> deliveries) {
        Map<Channel, TreeSet<Long>> byChannel = new IdentityHashMap<>();
        for (Delivery d : deliveries) {
            Held h = held.remove(d.tag());
            if (h != null) {
                byChannel.computeIfAbsent(h.channel, c -> new TreeSet<>()).add(h.amqpTag);
            }
        }
        byChannel.forEach((ch, tags) -> {
            if (!ch.isOpen()) {
                synchronized (lock) {
                    open.remove(ch); // its deliveries went back when it closed
                }
                return;
            }
            conn.call("ack", ch, c -> {
                synchronized (lock) {
                    acks(c, tags);
                }
                return null;
            });
        });
    }

    /** Acks {@code tags} of {@code c}: its lowest held ones that are all in {@code tags} at once. */
    private void acks(Channel c, TreeSet<Long> tags) throws java.io.IOException {
        TreeSet<Long> mine = open.getOrDefault(c, new TreeSet<>());
        long upTo = -1;
        int run = 0;
        for (long t : mine) {
            if (!tags.contains(t)) {
                break;
            }
            upTo = t;
            run++;
        }
        if (run > 1) {
            c.basicAck(upTo, true);
            mine.headSet(upTo, true).clear();
            tags.headSet(upTo, true).clear();
        }
        for (long t : tags) {
            c.basicAck(t, false);
            mine.remove(t);
        }
    }

    void requeue(Delivery delivery) {
        Held h = held.remove(delivery.tag());
        if (h != null) {
            quiet.accept(h.queue, false);
            giveBack(h);
            // a round trip on the same channel: the server has handled the nack when this returns, so
            // the message is ready for others (and counted by size) when requeue returns
            if (h.channel.isOpen()) {
                conn.call("give a message back", h.channel, sync);
            }
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
                    drop(c, h.amqpTag);
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
                    quiet.accept(h.queue, true);
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
