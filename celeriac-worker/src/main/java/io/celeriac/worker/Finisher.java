package io.celeriac.worker;

import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Delivery;
import io.celeriac.spi.ResultStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records finished work in batches: the results of everything that finished since the last round
 * in one store call, then their acks in one broker call. Under load this turns two transactions per
 * task into two per batch; when idle a batch is a single task and nothing waits.
 *
 * <p>Order matters and is kept: a result is stored before its message is acked, so a crash in
 * between runs the task again (at-least-once) rather than losing its result.
 */
final class Finisher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Finisher.class);
    private static final int MAX_BATCH = 256;

    /** The end of one message's handling: a result to store (or null), and whether to ack the delivery. */
    record Completion(TaskResult result, Delivery delivery, boolean ack) {
    }

    private final ResultStore results;
    private final Broker broker;
    private final BooleanSupplier coldStop;
    /** Bounded, so that a slow store slows the slots down instead of piling up finished work. */
    private final LinkedBlockingQueue<Completion> queue = new LinkedBlockingQueue<>(4 * MAX_BATCH);
    private final Thread thread;
    private volatile boolean closing;

    Finisher(ResultStore results, Broker broker, BooleanSupplier coldStop) {
        this.results = results;
        this.broker = broker;
        this.coldStop = coldStop;
        this.thread = new Thread(this::loop, "celeriac-finisher");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    void submit(Completion c) {
        try {
            queue.put(c);
        } catch (InterruptedException e) {
            // a cold stop interrupted the slot: record anyway, the work is done
            queue.add(c);
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        List<Completion> batch = new ArrayList<>(MAX_BATCH);
        while (!(closing && queue.isEmpty())) {
            try {
                Completion first = queue.poll(50, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                record(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Throwable t) {
                log.error("finisher: unexpected error recording {} completion(s): {}", batch.size(), t.toString(), t);
            } finally {
                batch.clear();
            }
        }
    }

    private void record(List<Completion> batch) {
        List<TaskResult> toStore = new ArrayList<>();
        List<Delivery> toAck = new ArrayList<>();
        for (Completion c : batch) {
            if (c.result() != null) {
                toStore.add(c.result());
            }
            if (c.ack()) {
                toAck.add(c.delivery());
            }
        }
        // If this fails for good (cold stop, or an error that retrying cannot fix) nothing is acked:
        // the messages come back and run again rather than lose their results.
        Persistently.run("store " + toStore.size() + " result(s) and ack " + toAck.size() + " message(s)",
                () -> results.storeAndAck(toStore, broker, toAck), coldStop, BrokerOutage.of(broker));
    }

    /** Records everything submitted so far, then stops. */
    @Override
    public void close() {
        closing = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
