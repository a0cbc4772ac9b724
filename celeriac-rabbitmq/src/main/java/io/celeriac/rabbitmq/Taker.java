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
 * first (one round trip, which also says how many more wait), then, when more wait, a stream: a
 * consumer whose {@code basic.qos} prefetch is the worker's ask, kept open while the queue has a
 * backlog, the deliveries the server pushes buffered until a reserve takes them; each ack frees room
 * and the server sends the next without being asked, so a backlog costs no round trip per batch.
 * RabbitMQ sends every delivery of a consumer before its cancel-ok, so once a cancel is confirmed
 * nothing more comes and what was sent is all in the buffer, taken before any later {@code basic.get}
 * (FIFO holds). The prefetch keeps the server from sending more than the worker's ask.
 *
 * <p>A redelivered message is counted here ({@code x-celeriac-redeliveries} one higher, published
 * again, the original acked); every delivery is handed to {@link Holdings} in the order of its
 * delivery tag, before any later one, so an ack with {@code multiple} never covers one not held.
 */
final class Taker {
    /** How long a reserve waits for a stream's next delivery before it takes what it has (or, none buffered, cancels it). */
    static final long GAP_MS = 20;

    /** A delivery as it arrived, on its channel. */
    record Arrival(Channel channel, String queue, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
    }

    private final RabbitConnection conn;
    private final Object lock;
    private final Holdings holdings;
    private Channel channel; // guarded by lock
    private int prefetch; // the channel's basic.qos now
    /** Each queue's stream, while it has one; guarded by lock. */
    private final Map<String, Stream> streams = new HashMap<>();
    /** Notified at each delivery to a stream, and when one ends. */
    private final Object arrived = new Object();

    Taker(RabbitConnection conn, Object lock, Holdings holdings) {
        this.conn = conn;
        this.lock = lock;
        this.holdings = holdings;
        conn.onRecovery(() -> {
            // the consumers are gone with the old channel and what they were sent went back to the queues
            synchronized (lock) {
                streams.values().forEach(Stream::voided);
                streams.clear();
            }
        });
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
            Channel[] on = new Channel[1];
            GetResponse r = conn.call("take from queue '" + q + "'", null, ignored -> {
                synchronized (lock) {
                    on[0] = channel();
                    return on[0].basicGet(q, false);
                }
            });
            if (r == null) {
                return -1;
            }
            Delivery d = accept(new Arrival(on[0], q, r.getEnvelope(), r.getProps(), r.getBody()));
            if (d != null) {
                out.add(d);
                return r.getMessageCount();
            }
            // a redelivery, counted: its copy is on the queue now, take that
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
                Delivery d = accept(a);
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
    private Delivery accept(Arrival a) {
        AMQP.BasicProperties props = a.props();
        Envelope env = a.envelope();
        Map<String, Object> headers = props.getHeaders() == null ? Map.of() : props.getHeaders();
        int before = headers.get(AmqpForm.REDELIVERIES) instanceof Number n ? n.intValue() : 0;
        Channel ch = a.channel();
        if (env.isRedeliver()) {
            Map<String, Object> h = new HashMap<>(headers);
            h.put(AmqpForm.REDELIVERIES, before + 1);
            conn.publish("", a.queue(), props.builder().headers(h).build(), a.body(), true);
            conn.call("ack a counted redelivery", ch, c -> {
                synchronized (lock) {
                    c.basicAck(env.getDeliveryTag(), false);
                    holdings.drop(c, env.getDeliveryTag());
                }
                return null;
            });
            return null;
        }
        return holdings.hold(ch, env.getDeliveryTag(), a.queue(), AmqpForm.toEnvelope(env.getExchange(), env.getRoutingKey(), props, a.body()),
                1 + before);
    }

    // --- streams: a long-lived consumer per queue while it has a backlog ---------------------------

    /** True when {@code q} has a stream: its consumer registered, or cancelled with deliveries still buffered. */
    boolean streaming(String q) {
        synchronized (lock) {
            Stream s = streams.get(q);
            return s != null && !s.isVoid;
        }
    }

    /**
     * Opens a stream on {@code q}: a consumer with {@code basic.qos} prefetch {@code prefetch} (a
     * multiple of the worker's ask, {@link RabbitBroker#STREAM_WINDOW}: late acks lag behind), kept open
     * while the queue has a backlog, and waits for up to {@code n} deliveries (none for
     * {@link #GAP_MS} after the last, and it stops waiting); takes what came into {@code out}.
     */
    void stream(String q, int prefetch, int n, List<Delivery> out) throws InterruptedException {
        Channel ch = conn.call("take from queue '" + q + "'", null, ignored -> channel());
        Stream s = new Stream(ch, q);
        conn.call("consume from queue '" + q + "'", ch, c -> {
            prefetch(c, prefetch, false);
            synchronized (lock) {
                s.tag = c.basicConsume(q, false, s);
                streams.put(q, s); // none before it with deliveries left (see streaming)
            }
            return null;
        });
        s.awaitSize(n, GAP_MS);
        drain(q, out.size() + n, out);
    }

    /** Takes buffered deliveries of {@code q}'s stream, in order, into {@code out} until it holds {@code max}. */
    void drain(String q, int max, List<Delivery> out) {
        Stream s;
        synchronized (lock) {
            s = streams.get(q);
        }
        if (s == null) {
            return;
        }
        while (out.size() < max && !s.isVoid) {
            Arrival a = s.poll();
            if (a == null) {
                break;
            }
            add(accept(a), out);
        }
        boolean done = s.isVoid || (!s.live && s.size() == 0);
        synchronized (lock) {
            if (done) {
                streams.remove(q, s);
            }
        }
    }

    /** Waits up to {@code ms} for a delivery to the stream of any of {@code names}; true when one is buffered. */
    boolean awaitStreams(List<String> names, long ms) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (true) {
            List<Stream> mine = new ArrayList<>();
            synchronized (lock) {
                for (String q : names) {
                    Stream s = streams.get(q);
                    if (s != null && !s.isVoid) {
                        mine.add(s);
                    }
                }
            }
            synchronized (arrived) { // the buffers are guarded by it: no delivery slips between look and wait
                boolean any = false;
                boolean live = false;
                for (Stream s : mine) {
                    any |= !s.buffer.isEmpty();
                    live |= s.live && !s.isVoid;
                }
                long left = deadline - System.nanoTime();
                if (any || !live || left <= 0) {
                    return any;
                }
                arrived.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    /**
     * Cancels {@code q}'s stream (confirmed: all it was sent is buffered then, to be taken as before),
     * so that nothing more comes to it: before a message is given back, so that it is free for any
     * consumer, and when its queue ran dry.
     */
    void cancel(String q) {
        Stream s;
        synchronized (lock) {
            s = streams.get(q);
        }
        if (s != null && s.live) {
            s.stop();
        }
    }

    /** Buffered deliveries of {@code q}'s stream, not yet taken (what waits for this consumer). */
    int buffered(String q) {
        Stream s;
        synchronized (lock) {
            s = streams.get(q);
        }
        return s == null || s.isVoid ? 0 : s.size();
    }

    /**
     * Ends {@code q}'s stream and disposes of what it buffered: acked ({@code delete}, for a purge)
     * or given back ({@code basic.nack} with requeue); returns how many.
     */
    int release(String q, boolean delete) {
        cancel(q);
        Stream s;
        synchronized (lock) {
            s = streams.remove(q);
        }
        if (s == null || s.isVoid) {
            return 0;
        }
        List<Arrival> all = s.takeAll();
        for (Arrival a : all) {
            if (!a.channel().isOpen()) {
                continue; // it went back with its channel
            }
            conn.call(delete ? "purge queue '" + q + "'" : "give messages back", a.channel(), c -> {
                synchronized (lock) {
                    long t = a.envelope().getDeliveryTag();
                    if (delete) {
                        c.basicAck(t, false);
                    } else {
                        c.basicNack(t, false, true);
                    }
                    holdings.drop(c, t);
                }
                return null;
            });
        }
        return all.size();
    }

    /**
     * A long-lived consumer on one queue (kombu's way): the server pushes deliveries up to its
     * prefetch, into a buffer the reserves take from; each ack frees room and the server sends the
     * next without being asked. Every delivery is noted with {@link Holdings} as it arrives, in the
     * order of its tag, so a multiple ack never covers one still buffered. Cancelled (confirmed)
     * when its queue runs dry, before a give-back, a purge or a count; void when its channel closed
     * or the connection was recovered (the server took back all it was sent).
     */
    private final class Stream extends DefaultConsumer {
        private final String queue;
        private final java.util.ArrayDeque<Arrival> buffer = new java.util.ArrayDeque<>(); // guarded by arrived
        private final CountDownLatch cancelled = new CountDownLatch(1);
        volatile boolean live = true;
        volatile boolean isVoid;
        String tag;

        Stream(Channel ch, String queue) {
            super(ch);
            this.queue = queue;
        }

        @Override
        public void handleDelivery(String consumerTag, Envelope env, AMQP.BasicProperties props, byte[] body) {
            Channel ch = getChannel();
            synchronized (lock) {
                holdings.open(ch, env.getDeliveryTag());
            }
            synchronized (arrived) {
                buffer.add(new Arrival(ch, queue, env, props, body));
                arrived.notifyAll();
            }
        }

        @Override
        public void handleCancelOk(String consumerTag) {
            ended();
        }

        @Override
        public void handleCancel(String consumerTag) {
            ended(); // by the server (its queue deleted, a quorum leader moved): what it was sent stays ours
        }

        @Override
        public void handleShutdownSignal(String consumerTag, com.rabbitmq.client.ShutdownSignalException sig) {
            voided();
        }

        private void ended() {
            live = false;
            cancelled.countDown();
            synchronized (arrived) {
                arrived.notifyAll();
            }
        }

        void voided() {
            isVoid = true;
            ended();
            synchronized (arrived) {
                buffer.clear();
            }
        }

        Arrival poll() {
            synchronized (arrived) {
                return buffer.poll();
            }
        }

        int size() {
            synchronized (arrived) {
                return buffer.size();
            }
        }

        List<Arrival> takeAll() {
            synchronized (arrived) {
                List<Arrival> all = new ArrayList<>(buffer);
                buffer.clear();
                return all;
            }
        }

        /** Until {@code n} are buffered, or none came for {@code gapMs}. */
        void awaitSize(int n, long gapMs) throws InterruptedException {
            synchronized (arrived) {
                while (buffer.size() < n && live) {
                    int before = buffer.size();
                    arrived.wait(gapMs);
                    if (buffer.size() == before) {
                        return;
                    }
                }
            }
        }

        /** Cancels the consumer, confirmed; unconfirmed, the channel is closed (and all on it void). */
        void stop() {
            boolean confirmed;
            try {
                synchronized (lock) {
                    getChannel().basicCancel(tag);
                }
                confirmed = cancelled.await(2, TimeUnit.SECONDS);
            } catch (IOException | RuntimeException gone) {
                confirmed = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                confirmed = false;
            }
            if (!confirmed) {
                try {
                    getChannel().abort();
                } catch (RuntimeException | IOException ignored) {
                    // closed already
                }
                voided();
            }
        }
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
            synchronized (lock) {
                holdings.open(getChannel(), env.getDeliveryTag()); // no multiple ack covers it while it waits here
            }
            synchronized (arrivals) {
                arrivals.add(new Arrival(getChannel(), queue, env, props, body));
            }
            signal.add(Boolean.TRUE);
        }

        @Override
        public void handleCancelOk(String consumerTag) {
            cancelled.countDown();
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
