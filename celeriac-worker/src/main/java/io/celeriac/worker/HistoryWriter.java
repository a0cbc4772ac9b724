package io.celeriac.worker;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.TaskState;
import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.Delivery;
import io.celeriac.spi.TaskHistory;
import io.celeriac.spi.TaskRecord;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * With {@code task_history}: turns what the worker observes into {@link TaskRecord}s (RECEIVED when
 * a message is taken, STARTED, then how it ended) and writes them to the {@link TaskHistory} off the
 * task's path: a bounded queue ({@value #QUEUE} records; a full one drops, never blocks), one writer
 * thread that gathers up to {@value #GATHER} (waiting {@value #LINGER_MS} ms for more after the first),
 * merges those of one task id into one, and stores them at most {@value #BATCH} per
 * {@link TaskHistory#record} call, pruning once a minute with {@code task_history_retention} and
 * {@code task_history_max}. A history that cannot be written costs records, never tasks: the batch
 * is dropped, with one log line per outage, and counted ({@link #dropped}). {@link #close} writes
 * what is queued.
 */
final class HistoryWriter implements TaskObserver, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("celeriac.worker");
    static final int QUEUE = 10_000;
    static final int BATCH = 500;
    private static final Duration PRUNE_EVERY = Duration.ofMinutes(1);
    /**
     * How long the writer lets records gather after the first, so that a short task's RECEIVED,
     * STARTED and outcome are merged into one write; what it takes is up to {@value #GATHER} records.
     */
    private static final long LINGER_MS = 100;
    static final int GATHER = 3 * BATCH;
    /** How the history names a run whose process died (its message was put back to run again). */
    static final TaskState LOST = TaskState.parse("LOST");

    private final TaskHistory store;
    private final String node;
    private final Duration retention;
    private final long max;
    private final Clock clock;
    private final BlockingQueue<TaskRecord> queue = new ArrayBlockingQueue<>(QUEUE);
    private final AtomicLong dropped = new AtomicLong();
    private final Thread writer;
    private volatile boolean closing;
    /** A write (or prune) is failing: logged once when it began, once when it ended. */
    private boolean outage;
    private long droppedInOutage;
    private volatile boolean overflowing;
    private Instant nextPrune;

    HistoryWriter(TaskHistory store, String node, Duration retention, long max, Clock clock) {
        this.store = store;
        this.node = node;
        this.retention = retention;
        this.max = max;
        this.clock = clock;
        this.nextPrune = clock.instant().plus(PRUNE_EVERY);
        this.writer = new Thread(this::writeLoop, "celeriac-task-history");
        writer.setDaemon(true);
        writer.start();
    }

    /** Records dropped so far: the history could not be written, or the queue was full. */
    long dropped() {
        return dropped.get();
    }

    // --- what the worker observes, as records ------------------------------------------------------

    @Override
    public void received(Delivery delivery, TaskMessage m, Instant at) {
        if (m == null) {
            return; // undecodable: its fate (with an id when one could be read) is recorded when it is settled
        }
        offer(new TaskRecord(m.id(), m.task(), TaskState.RECEIVED, node, delivery.queue(), m.argsJson(),
                m.kwargsJson(), null, null, null, m.retries(), at, null, at, null, m.parentId(), m.rootId(), m.group(),
                List.of(), List.of(new TaskRecord.Step(TaskState.RECEIVED, at, node, m.retries(), null))));
    }

    @Override
    public void started(TaskMessage m, String queue, Instant at) {
        offer(new TaskRecord(m.id(), m.task(), TaskState.STARTED, node, queue, null, null, null, null, null, m.retries(),
                null, at, at, null, m.parentId(), m.rootId(), m.group(), List.of(),
                List.of(new TaskRecord.Step(TaskState.STARTED, at, node, m.retries(), null))));
    }

    @Override
    public void finished(Finished f) {
        TaskRecord r = record(f, node);
        if (r != null) {
            offer(r);
        }
    }

    /**
     * The record of a message's fate, or null when there is none to keep (no id; put back untouched; a duplicate).
     * It leaves out the args and kwargs: the RECEIVED record that this worker wrote before (every decoded
     * message is received before its fate) carries them, and the merge keeps them. Its runtime is kept
     * to the microsecond, as the history's times are.
     */
    static TaskRecord record(Finished f, String node) {
        if (f.id() == null || f.fate() == Fate.DEFERRED || f.fate() == Fate.SKIPPED) {
            return null;
        }
        TaskState state = f.fate() == Fate.LOST ? LOST : f.state();
        if (state == null) {
            return null;
        }
        ExceptionInfo exc = f.exception();
        String detail = switch (f.fate()) {
            case REVOKED -> f.reason();
            case REJECTED -> "dead-lettered: " + f.reason();
            case LOST -> f.reason();
            case RETRY -> exc == null ? "Retry" : exc.summary();
            default -> exc == null ? null : exc.summary();
        };
        TaskMessage m = f.message();
        int retries = m == null ? 0 : m.retries();
        return new TaskRecord(f.id(), f.task(), state, node, f.queue(), null, null,
                f.fate() == Fate.SUCCESS && f.result() != null ? resultJson(f.result()) : null,
                f.fate() == Fate.SUCCESS ? null : detail, exc == null ? null : exc.traceback(), retries,
                null, f.started(), f.at(), f.runtime() == null ? null : Math.round(f.runtime() * 1e6) / 1e6,
                m == null ? null : m.parentId(), m == null ? null : m.rootId(), m == null ? null : m.group(), f.children(),
                List.of(new TaskRecord.Step(state, f.at(), node, retries, detail)));
    }

    /** A result as JSON text; the usual small ones (null, a boolean, an integer) without the mapper. */
    static String resultJson(JsonNode result) {
        if (result.isNull()) {
            return "null";
        }
        if (result.isBoolean() || result.isIntegralNumber() && result.canConvertToLong()) {
            return result.asText();
        }
        return Json.write(result);
    }

    private void offer(TaskRecord r) {
        if (closing || !queue.offer(r)) {
            dropped.incrementAndGet();
            if (!overflowing) {
                overflowing = true;
                log.warn("task history: {} records queued, not written fast enough; dropping records until it catches up", QUEUE);
            }
        }
    }

    // --- the writer thread ---------------------------------------------------------------------------

    private void writeLoop() {
        List<TaskRecord> batch = new ArrayList<>(GATHER);
        while (true) {
            try {
                TaskRecord first = queue.poll(closing ? 0 : 250, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (closing) {
                        return;
                    }
                } else {
                    batch.add(first);
                    if (!closing && queue.size() < GATHER) {
                        Thread.sleep(LINGER_MS);
                    }
                    queue.drainTo(batch, GATHER - 1);
                    List<TaskRecord> merged = merged(batch);
                    for (int from = 0; from < merged.size(); from += BATCH) {
                        write(merged.subList(from, Math.min(merged.size(), from + BATCH)));
                    }
                    batch.clear();
                    if (overflowing && queue.remainingCapacity() > QUEUE / 2) {
                        overflowing = false;
                    }
                }
                pruneWhenDue();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void write(List<TaskRecord> records) {
        try {
            store.record(List.copyOf(records));
            ended();
        } catch (RuntimeException e) {
            failed("cannot write the task history (" + store.describe() + ")", e);
            dropped.addAndGet(records.size());
            droppedInOutage += records.size();
        }
    }

    private void pruneWhenDue() {
        Instant now = clock.instant();
        if (now.isBefore(nextPrune)) {
            return;
        }
        nextPrune = now.plus(PRUNE_EVERY);
        try {
            long gone = store.prune(now.minus(retention), max);
            if (gone > 0) {
                log.debug("task history: pruned {} records", gone);
            }
        } catch (RuntimeException e) {
            failed("cannot prune the task history (" + store.describe() + ")", e);
        }
    }

    private void failed(String what, RuntimeException e) {
        if (!outage) {
            outage = true;
            log.warn("task history: {}: {}; records are dropped until it can (tasks are not affected)", what,
                    io.celeriac.protocol.LogText.escape(String.valueOf(e.getMessage())));
        }
    }

    private void ended() {
        if (outage) {
            outage = false;
            log.info("task history: written again; {} records were dropped meanwhile", droppedInOutage);
            droppedInOutage = 0;
        }
    }

    /** Writes what is queued (waiting up to 10 s), then closes the store. */
    @Override
    public void close() {
        closing = true; // the writer sees it within a poll (not interrupted: a write under way finishes)
        try {
            writer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!queue.isEmpty()) {
            log.warn("task history: {} records not written at shutdown", queue.size());
        }
        store.close();
    }

    // --- merging (the rule of TaskHistory, applied to a batch before it is stored) ------------------

    /**
     * The batch with the records of each task id merged into one ({@link TaskRecord#merge}, the
     * stores' own rule), in the order ids first appear: a run's RECEIVED, STARTED and outcome in one
     * batch cost the store one write.
     */
    static List<TaskRecord> merged(List<TaskRecord> batch) {
        Map<String, TaskRecord> byId = new LinkedHashMap<>();
        for (TaskRecord r : batch) {
            byId.merge(r.id(), r, TaskRecord::merge);
        }
        return new ArrayList<>(byId.values());
    }
}
