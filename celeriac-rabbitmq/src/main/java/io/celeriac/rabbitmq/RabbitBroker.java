package io.celeriac.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.ControlChannel;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.Delivery;
import io.celeriac.spi.EventChannel;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The broker on RabbitMQ, in kombu's layout (see docs/RABBITMQ-TOPOLOGY.md): tasks are published to
 * the default exchange with the queue's name as routing key, persistent, with a publisher confirm;
 * they are taken with {@code basic.get} up to what the worker's buffer has room for (concurrency ×
 * {@code worker_prefetch_multiplier}), and while a reserve waits for an empty queue a consumer with
 * {@code basic.qos} prefetch 1 per queue wakes it the moment one arrives. Nothing is prefetched that
 * the worker did not ask for, so a requeued message is free for any consumer and purge sees all
 * that waits.
 *
 * <p>Acknowledgements are late ({@link #ack} after the result is stored). A consumer that dies has
 * its unacked messages redelivered by RabbitMQ at once (on channel close); one that lives but stops
 * renewing ({@link #renew}) gives them back itself after its lease. A redelivered message is counted
 * before it runs: it is published again with {@code x-celeriac-redeliveries} one higher (confirmed)
 * and the original acked, so the worker's {@code task_worker_lost_limit} sees every lost delivery
 * on classic and quorum queues alike. Messages with an ETA wait in the coordination store
 * ({@link EtaPark}).
 */
final class RabbitBroker implements Broker {
    /** How long a waiting reserve listens before it looks at the parked messages again. */
    private static final long SLICE_MS = EtaPark.MOVE_EVERY_MS;

    private final RabbitConnection conn;
    private final TaskQueues queues;
    private final EtaPark park;
    private final Duration lease;
    private final Object lock = new Object();
    private final Holdings holdings;
    private final ArrayDeque<Delivery> pending = new ArrayDeque<>();
    private Channel channel;

    RabbitBroker(RabbitConnection conn, Config config) {
        this.conn = conn;
        this.queues = new TaskQueues(conn, config);
        this.park = new EtaPark(config);
        this.lease = config.get(Settings.BROKER_RECOVERY_TIMEOUT);
        this.holdings = new Holdings(conn, lock, lease);
    }

    private Channel channel() throws IOException {
        synchronized (lock) {
            if (channel == null || !channel.isOpen()) {
                channel = conn.connection().createChannel();
                channel.basicQos(1, false);
            }
            return channel;
        }
    }

    @Override
    public void publish(String queue, BrokerMessage message) {
        if (message.eta() != null && message.etaMillis() > System.currentTimeMillis()) {
            park.park(queue, message);
            return;
        }
        queues.declare(queue);
        AmqpForm.Out out = AmqpForm.toAmqp(message, System.currentTimeMillis());
        conn.publish("", queue, out.props(), out.body(), true);
    }

    @Override
    public List<Delivery> reserve(List<String> from, int max, Duration wait) throws InterruptedException {
        if (max <= 0 || from.isEmpty()) {
            return List.of();
        }
        List<String> names = List.copyOf(new LinkedHashSet<>(from));
        names.forEach(queues::declare);
        long deadline = System.nanoTime() + wait.toNanos();
        List<Delivery> out = new ArrayList<>();
        while (true) {
            park.move(names, this::publish);
            takePending(names, max, out);
            get(names, max, out);
            long left = deadline - System.nanoTime();
            if (!out.isEmpty() || left <= 0) {
                return out;
            }
            awaitArrival(names, Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, SLICE_MS));
        }
    }

    private void takePending(List<String> names, int max, List<Delivery> out) {
        synchronized (pending) {
            for (Iterator<Delivery> it = pending.iterator(); it.hasNext() && out.size() < max; ) {
                Delivery d = it.next();
                if (names.contains(d.queue())) {
                    it.remove();
                    out.add(d);
                }
            }
        }
    }

    /** basic.get round-robin over the queues until {@code max} or all are empty. */
    private void get(List<String> names, int max, List<Delivery> out) {
        Set<String> empty = new java.util.HashSet<>();
        while (out.size() < max && empty.size() < names.size()) {
            for (String q : names) {
                if (out.size() >= max || empty.contains(q)) {
                    continue;
                }
                GetResponse r = conn.call("take from queue '" + q + "'", null, ignored -> {
                    synchronized (lock) {
                        return channel().basicGet(q, false);
                    }
                });
                if (r == null) {
                    empty.add(q);
                } else {
                    Delivery d = accept(q, r.getEnvelope(), r.getProps(), r.getBody());
                    if (d != null) {
                        out.add(d);
                    }
                }
            }
        }
    }

    /** Listens on the queues for up to {@code ms}; what arrives goes to {@link #pending}. */
    private void awaitArrival(List<String> names, long ms) throws InterruptedException {
        record Arrival(String queue, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
        }
        BlockingQueue<Arrival> arrivals = new LinkedBlockingQueue<>();
        CountDownLatch cancelled = new CountDownLatch(names.size());
        List<String> tags = new ArrayList<>();
        Arrival first = null;
        Channel ch = conn.call("listen", null, ignored -> channel());
        try {
            for (String q : names) {
                DefaultConsumer c = new DefaultConsumer(ch) {
                    @Override
                    public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] body) {
                        arrivals.add(new Arrival(q, env, props, body));
                    }

                    @Override
                    public void handleCancelOk(String tag) {
                        cancelled.countDown();
                    }
                };
                tags.add(conn.call("listen on queue '" + q + "'", ch, x -> {
                    synchronized (lock) {
                        return x.basicConsume(q, false, c);
                    }
                }));
            }
            first = arrivals.poll(ms, TimeUnit.MILLISECONDS);
        } finally {
            for (String tag : tags) {
                try {
                    synchronized (lock) {
                        ch.basicCancel(tag);
                    }
                } catch (IOException | RuntimeException gone) {
                    cancelled.countDown(); // the channel closed: the server took its deliveries back
                }
            }
            for (int i = tags.size(); i < names.size(); i++) {
                cancelled.countDown();
            }
            cancelled.await(2, TimeUnit.SECONDS);
            if (first != null) {
                arrivals.add(first);
            }
            for (Arrival a; (a = arrivals.poll()) != null; ) {
                Delivery d = accept(a.queue(), a.envelope(), a.props(), a.body());
                if (d != null) {
                    synchronized (pending) {
                        pending.add(d);
                    }
                }
            }
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

    @Override
    public void ack(List<Delivery> deliveries) {
        holdings.ack(deliveries);
    }

    @Override
    public void requeue(Delivery delivery) {
        holdings.requeue(delivery);
    }

    @Override
    public void renew() {
        holdings.renew();
        park.renew();
    }

    @Override
    public long purge(String queue) {
        return queues.purge(queue) + park.purge(queue);
    }

    @Override
    public long size(String queue) {
        long mine;
        synchronized (pending) {
            mine = pending.stream().filter(d -> d.queue().equals(queue)).count();
        }
        return queues.ready(queue) + park.size(queue) + mine;
    }

    /** Celery puts ETA tasks on their queue at once; a Celeriac worker parks them when it takes them. */
    @Override
    public boolean etaOnQueue() {
        return true;
    }

    @Override
    public Duration lease() {
        return lease;
    }

    @Override
    public String describe() {
        return conn.url.describe();
    }

    @Override
    public List<Scheduled> scheduled(String queue, int limit) {
        return park.scheduled(queue, limit);
    }

    @Override
    public ControlChannel control(Coordination presence) {
        return new RabbitControl(conn);
    }

    @Override
    public EventChannel events(Coordination presence) {
        return new RabbitEvents(conn);
    }

    @Override
    public void close() {
        holdings.close();
        park.close();
        conn.close();
    }
}
