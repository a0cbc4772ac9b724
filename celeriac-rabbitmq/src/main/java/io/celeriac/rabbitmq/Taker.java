package io.celeriac.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import io.celeriac.spi.Delivery;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * How the broker takes messages off its queues, on its one consumer channel: a {@code basic.get}
 * first (one round trip, which also says how many more wait), then, when more wait and the worker
 * has room, one batch through a consumer whose {@code basic.qos} prefetch is exactly that room:
 * {@code basic.consume}, the deliveries the server pushes, {@code basic.cancel}. RabbitMQ sends
 * every delivery of a consumer before its cancel-ok, so when the cancel is confirmed nothing more
 * comes; the prefetch keeps the server from sending more than was asked, so there is no surplus
 * to give back, and once cancelled nothing is taken ahead (a requeued message is free for anyone).
 * A batch of n costs four round trips at most instead of n.
 *
 * <p>A redelivered message is counted here ({@code x-celeriac-redeliveries} one higher, published
 * again, the original acked); every delivery is handed to {@link Holdings} in the order of its
 * delivery tag, before any later one, so an ack with {@code multiple} never covers one not held.
 */
final class Taker {
    /** How long a batch waits for the next delivery before it cancels with what it has. */
    private static final long GAP_MS = 20;

    /** A delivery as it arrived. */
    record Arrival(String queue, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
    }

    private final RabbitConnection conn;
    private final Object lock;
    private final Holdings holdings;
    private Channel channel; // guarded by lock
    private int prefetch; // the channel's basic.qos now

    Taker(RabbitConnection conn, Object lock, Holdings holdings) {
        this.conn = conn;
        this.lock = lock;
        this.holdings = holdings;
    }

    /** The consumer channel, opened anew when it closed. */
    Channel channel() throws IOException {
        synchronized (lock) {
            if (channel == null || !channel.isOpen()) {
                channel = conn.connection().createChannel();
                channel.basicQos(1, false);
                prefetch = 1;
            }
            return channel;
        }
    }

    /** Sets the prefetch of consumers started from now on; a round trip only when it changes (or {@code always}). */
    void prefetch(Channel ch, int n, boolean always) throws IOException {
        synchronized (lock) {
            if (always || ch != channel || prefetch != n) {
                ch.basicQos(n, false);
                if (ch == channel) {
                    prefetch = n;
                }
            }
        }
    }

    /** A round trip on {@code ch}: the server has handled what was sent on it before, when this returns. */
    void sync(Channel ch) throws IOException {
        synchronized (lock) {
            prefetch(ch, ch == channel ? prefetch : 1, true);
        }
    }

    /**
     * One {@code basic.get} from {@code q} (again after a redelivery, counted: for its copy): adds
     * its delivery to {@code out}; returns how many more wait, or -1 when the queue was empty.
     */
    int getOne(String q, List<Delivery> out) {
        while (true) {
            GetResponse r = conn.call("take from queue '" + q + "'", null, ignored -> {
                synchronized (lock) {
                    return channel().basicGet(q, false);
                }
            });
            if (r == null) {
                return -1;
            }
            Delivery d = accept(q, r.getEnvelope(), r.getProps(), r.getBody());
            if (d != null) {
                out.add(d);
                return r.getMessageCount();
            }
            // a redelivery, counted: its copy is on the queue now, take that
        }
    }

    /** Up to {@code n} more from {@code q} through a consumer with prefetch {@code n}, cancelled after. */
    void batch(String q, int n, List<Delivery> out) throws InterruptedException {
        Channel ch = conn.call("take from queue '" + q + "'", null, ignored -> channel());
        Listener l = new Listener(ch, q, new LinkedBlockingQueue<>());
        conn.call("take from queue '" + q + "'", ch, c -> {
            prefetch(c, n, false);
            l.consume(c);
            return null;
        });
        try {
            l.await(n, GAP_MS, GAP_MS);
        } catch (InterruptedException e) {
            l.abandon(); // what it was sent goes back with the channel (the worker is stopping)
            throw e;
        }
        for (Arrival a : l.stop()) {
            add(accept(a.queue(), a.envelope(), a.props(), a.body()), out);
        }
    }

    /**
     * Listens on {@code names} with prefetch 1 each for up to {@code ms}; what arrived (at most one
     * a queue) goes to {@code sink}, accepted, also when the wait is interrupted.
     */
    void await(List<String> names, long ms, java.util.function.Consumer<Delivery> sink) throws InterruptedException {
        Channel ch = conn.call("listen", null, ignored -> channel());
        List<Listener> listeners = new ArrayList<>();
        LinkedBlockingQueue<Boolean> arrived = new LinkedBlockingQueue<>();
        List<Arrival> arrivals = new ArrayList<>();
        try {
            conn.call("listen", ch, c -> {
                prefetch(c, 1, false);
                return null;
            });
            for (String q : names) {
                Listener l = new Listener(ch, q, arrived);
                conn.call("listen on queue '" + q + "'", ch, c -> {
                    l.consume(c);
                    return null;
                });
                listeners.add(l);
            }
            arrived.poll(ms, TimeUnit.MILLISECONDS);
        } finally {
            for (Listener l : listeners) {
                arrivals.addAll(l.stop());
            }
            arrivals.sort(java.util.Comparator.comparingLong(a -> a.envelope().getDeliveryTag()));
            for (Arrival a : arrivals) {
                Delivery d = accept(a.queue(), a.envelope(), a.props(), a.body());
                if (d != null) {
                    sink.accept(d);
                }
            }
        }
    }

    private static void add(Delivery d, List<Delivery> out) {
        if (d != null) {
            out.add(d);
        }
    }

    /**
     * A delivery as the worker sees it; null when it was redelivered: then it is counted (published
     * again one higher, the original acked) and its copy comes later.
     */
    private Delivery accept(String queue, Envelope env, AMQP.BasicProperties props, byte[] body) {
        Map<String, Object> headers = props.getHeaders() == null ? Map.of() : props.getHeaders();
        int before = headers.get(AmqpForm.REDELIVERIES) instanceof Number n ? n.intValue() : 0;
        Channel ch;
        synchronized (lock) {
            ch = channel;
        }
        if (env.isRedeliver()) {
            Map<String, Object> h = new HashMap<>(headers);
            h.put(AmqpForm.REDELIVERIES, before + 1);
            conn.publish("", queue, props.builder().headers(h).build(), body, true);
            conn.call("ack a counted redelivery", ch, c -> {
                synchronized (lock) {
                    c.basicAck(env.getDeliveryTag(), false);
                }
                return null;
            });
            return null;
        }
        return holdings.hold(ch, env.getDeliveryTag(), queue, AmqpForm.toEnvelope(env.getExchange(), env.getRoutingKey(), props, body),
                1 + before);
    }

    /** One consumer on one queue, its deliveries kept in order until {@link #stop}. */
    private final class Listener extends DefaultConsumer {
        private final String queue;
        private final List<Arrival> arrivals = new ArrayList<>(); // guarded by itself
        private final LinkedBlockingQueue<Boolean> signal;
        private final CountDownLatch cancelled = new CountDownLatch(1);
        private String tag;

        Listener(Channel ch, String queue, LinkedBlockingQueue<Boolean> signal) {
            super(ch);
            this.queue = queue;
            this.signal = signal;
        }

        void consume(Channel c) throws IOException {
            synchronized (lock) {
                tag = c.basicConsume(queue, false, this);
            }
        }

        @Override
        public void handleDelivery(String consumerTag, Envelope env, AMQP.BasicProperties props, byte[] body) {
            synchronized (arrivals) {
                arrivals.add(new Arrival(queue, env, props, body));
            }
            signal.add(Boolean.TRUE);
        }

        @Override
        public void handleCancelOk(String consumerTag) {
            cancelled.countDown();
        }

        /** Until {@code n} arrived, or none for {@code gapMs} after the last ({@code firstMs} for the first). */
        void await(int n, long firstMs, long gapMs) throws InterruptedException {
            for (int seen = 0; seen < n; seen++) {
                if (signal.poll(seen == 0 ? firstMs : gapMs, TimeUnit.MILLISECONDS) == null) {
                    return;
                }
            }
        }

        /** Closes the channel: the server takes back all it sent on it; what this broker holds on it is void. */
        void abandon() {
            try {
                getChannel().abort();
            } catch (RuntimeException | IOException ignored) {
                // closed already
            }
        }

        /**
         * Cancels the consumer and returns what it was sent, in delivery order. When the server does
         * not confirm the cancel, the channel is closed: what it was sent goes back to the queue (and
         * what this broker holds on it is void), as nothing may arrive after its later tags are acked.
         */
        List<Arrival> stop() throws InterruptedException {
            boolean confirmed = tag == null;
            if (tag != null) {
                try {
                    synchronized (lock) {
                        getChannel().basicCancel(tag);
                    }
                    confirmed = cancelled.await(2, TimeUnit.SECONDS);
                } catch (IOException | RuntimeException gone) {
                    confirmed = false; // the channel closed: the server took its deliveries back
                } catch (InterruptedException e) {
                    abandon();
                    throw e;
                }
            }
            if (!confirmed) {
                abandon();
                return List.of();
            }
            synchronized (arrivals) {
                return List.copyOf(arrivals);
            }
        }
    }
}
