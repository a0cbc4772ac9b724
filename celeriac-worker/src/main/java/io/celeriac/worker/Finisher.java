package io.celeriac.worker;

import io.celeriac.spi.Settlement;
import io.celeriac.spi.Broker;
import io.celeriac.spi.ResultStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits finished work in batches: the {@link Settlement}s of everything that finished since the
 * last round — results, continuations (next chain steps, callbacks, errbacks, chord bodies), retries,
 * dead letters, acks — in one {@link ResultStore#settle} call. Under load this turns one commit per
 * task into one per batch; when idle a batch is a single task and nothing waits.
 *
 * <p>Where the store holds the broker's queues too, each settlement is atomic: a crash runs the task
 * again (at-least-once) rather than losing its result or a continuation, and never publishes one twice.
 */
final class Finisher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Finisher.class);
    private static final int MAX_BATCH = 256;

    private final ResultStore results;
    private final Broker broker;
    private final BooleanSupplier coldStop;
    /** Bounded, so that a slow store slows the slots down instead of piling up finished work. */
    private final LinkedBlockingQueue<Settlement> queue = new LinkedBlockingQueue<>(4 * MAX_BATCH);
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

    void submit(Settlement c) {
        try {
            queue.put(c);
        } catch (InterruptedException e) {
            // a cold stop interrupted the slot: record anyway, the work is done
            queue.add(c);
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        List<Settlement> batch = new ArrayList<>(MAX_BATCH);
        while (!(closing && queue.isEmpty())) {
            try {
                Settlement first = queue.poll(50, TimeUnit.MILLISECONDS);
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

    private void record(List<Settlement> batch) {
        // If this fails for good (cold stop, or an error that retrying cannot fix) nothing is acked:
        // the messages come back and run again rather than lose their results.
        Persistently.run("commit " + batch.size() + " finished message(s)", () -> results.settle(batch, broker), coldStop,
                BrokerOutage.of(broker));
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
