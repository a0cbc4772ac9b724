package io.celeriac.rabbitmq;

import com.rabbitmq.client.Channel;
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
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The broker on RabbitMQ, in kombu's layout (see docs/RABBITMQ-TOPOLOGY.md): tasks are published to
 * the default exchange with the queue's name as routing key, persistent, with a publisher confirm;
 * they are taken up to what the worker's buffer has room for (concurrency ×
 * {@code worker_prefetch_multiplier}): a {@code basic.get}, then, while the queue has a backlog, a
 * long-lived consumer with {@code basic.qos} prefetch at twice the worker's ask ({@link #STREAM_WINDOW}; {@link Taker} streams)
 * whose deliveries wait in a local buffer for the next reserves; it is cancelled when the queue runs
 * dry, before a give-back, a purge or a count, so a requeued message is free for any consumer and
 * purge and size see all that waits. While a reserve waits for an empty queue a consumer with
 * prefetch 1 per queue wakes it the moment one arrives.
 *
 * <p>Acknowledgements are late ({@link #ack} after the result is stored), a batch's contiguous
 * delivery tags in one {@code basic.ack} with {@code multiple} ({@link Holdings}). A consumer that dies has
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
    /**
     * A stream's {@code basic.qos} prefetch is this many times the worker's ask. Acks are late: a
     * delivery stays unacked while its result is stored and its ack is on the way, after the worker
     * has already made room for the next (its buffer counts a message until it is handed to the
     * finisher). A window of just the ask made RabbitMQ wait for each of those acks before it sent
     * the next message. The worker still takes no more than its ask; the rest waits in the stream's
     * local buffer, is counted by no one else, and comes back at once if the worker dies.
     */
    static final int STREAM_WINDOW = 2;

    private final RabbitConnection conn;
    private final TaskQueues queues;
    private final EtaPark park;
    private final Duration lease;
    private final Object lock = new Object();
    private final Holdings holdings;
    private final ArrayDeque<Delivery> pending = new ArrayDeque<>();
    private final Taker taker;

    RabbitBroker(RabbitConnection conn, Config config) {
        this.conn = conn;
        this.queues = new TaskQueues(conn, config);
        this.park = new EtaPark(config);
        this.lease = config.get(Settings.BROKER_RECOVERY_TIMEOUT);
        this.holdings = new Holdings(conn, lock, lease, this::sync, this::quiet);
        this.taker = new Taker(conn, lock, holdings);
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
            streamed(names, max, out);
            take(names, max, out);
            long left = deadline - System.nanoTime();
            if (!out.isEmpty() || left <= 0) {
                return out;
            }
            taker.await(names, Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, SLICE_MS), d -> {
                synchronized (pending) {
                    pending.add(d);
                }
            });
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

    /**
     * Takes what the queues' streams have buffered, in the queues' order. When they are all empty,
     * waits a moment for the next delivery (one is on its way after an ack); none coming, the
     * queues ran dry: their streams are cancelled (all they were sent is buffered then, and taken).
     */
    private void streamed(List<String> names, int max, List<Delivery> out) throws InterruptedException {
        for (int round = 0; round < 2 && out.size() < max; round++) {
            for (String q : names) {
                taker.drain(q, max, out);
            }
            if (!out.isEmpty() || names.stream().noneMatch(taker::streaming)) {
                return;
            }
            if (round == 0 && !taker.awaitStreams(names, Taker.GAP_MS)) {
                names.forEach(taker::cancel);
            }
        }
    }

    /**
     * Takes from the queues without a stream until {@code max} or all are empty: one
     * {@code basic.get} from each in turn (which says how many more wait), then, from each that has
     * more while there is room, a stream ({@link Taker#stream}) with prefetch {@code max}.
     */
    private void take(List<String> names, int max, List<Delivery> out) throws InterruptedException {
        Map<String, Integer> waiting = new LinkedHashMap<>();
        for (String q : names) {
            if (out.size() >= max) {
                return;
            }
            if (taker.streaming(q)) {
                continue; // a get would overtake what its consumer was sent
            }
            int more = taker.getOne(q, out);
            if (more > 0) {
                waiting.put(q, more);
            }
        }
        for (Map.Entry<String, Integer> w : waiting.entrySet()) {
            int room = max - out.size();
            if (room <= 0) {
                return;
            }
            taker.stream(w.getKey(), STREAM_WINDOW * max, Math.min(room, w.getValue()), out);
        }
    }

    /** Before a message of {@code q} is given back: its stream stops (and gives back what it buffered, when {@code stuck}). */
    private void quiet(String q, boolean stuck) {
        if (stuck) {
            taker.release(q, false);
        } else {
            taker.cancel(q);
        }
    }

    private Void sync(Channel ch) throws IOException {
        taker.sync(ch);
        return null;
    }

    @Override
    public void ack(List<Delivery> deliveries) {
        holdings.ack(deliveries);
    }

    @Override
    public void requeue(Delivery delivery) {
        holdings.requeue(delivery); // its queue's stream cancelled first, so that it is free for any consumer
    }

    @Override
    public void renew() {
        holdings.renew();
        park.renew();
    }

    @Override
    public long purge(String queue) {
        int buffered = taker.release(queue, true); // first: nothing more comes to this consumer
        return queues.purge(queue) + park.purge(queue) + buffered;
    }

    @Override
    public long size(String queue) {
        taker.cancel(queue); // what its consumer was sent is all buffered then: counted once, here
        long mine;
        synchronized (pending) {
            mine = pending.stream().filter(d -> d.queue().equals(queue)).count();
        }
        return queues.ready(queue) + park.size(queue) + mine + taker.buffered(queue);
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
