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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * With {@code task_history}: turns what the worker observes into {@link TaskRecord}s and writes them to the
 * {@link TaskHistory} off the task's path. A run that settles within {@value #LINGER_MS} ms of being received
 * (the usual case) makes one record, built when it settles, with its args and its whole timeline (RECEIVED,
 * STARTED, how it ended); one still unsettled then is written as it stands (RECEIVED, or STARTED), then STARTED
 * when it starts and its outcome when it ends, as separate records the store merges. Records go through a bounded
 * queue ({@value #QUEUE} records; a full one drops, never blocks) to one writer thread that gathers up to
 * {@value #GATHER} (waiting {@value #GATHER_MS} ms for more after the first), merges those of one task id into
 * one, and stores them at most {@value #BATCH} per
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
     * How long a received message may go unsettled before its RECEIVED (or STARTED) record is written: one that
     * settles sooner is written once, with its outcome.
     */
    private static final long LINGER_MS = 100;
    private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(LINGER_MS);
    /** How long the writer lets records gather after the first; what it takes is up to {@value #GATHER} records. */
    private static final long GATHER_MS = 20;
    /** How long the writer is idle (no record) before it {@linkplain TaskHistory#settle settles} the store. */
    private static final long SETTLE_AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);
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
    /** Records were written since the writer last went idle (and {@link TaskHistory#settle settled} the store). */
    private boolean unsettled;

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

    /**
     * A message received and not yet settled: what its records are made of. A run that settles within
     * {@value #LINGER_MS} ms is written once, as one record with its whole timeline ({@link #finished}); one still
     * unsettled then is written as RECEIVED or STARTED by the writer thread ({@link #emitOverdue}), and STARTED when
     * it starts after that, so the history shows tasks waiting and running as it did before.
     */
    static final class Pending {
        final Delivery delivery;
        final TaskMessage message;
        final Instant received;
        final long receivedNanos = System.nanoTime();
        Instant started;
        /** A record of it was queued before it settled (guarded by this). */
        boolean emitted;
        /** It has settled (guarded by this). */
        boolean settled;

        Pending(Delivery delivery, TaskMessage message, Instant received) {
            this.delivery = delivery;
            this.message = message;
            this.received = received;
        }
    }

    /**
     * Unsettled messages by task id: as many as the worker holds (its prefetch), which the writer looks through
     * for the overdue; kept under {@value #QUEUE} all the same. A settled one leaves it at once, so what a quick
     * run keeps alive until its record is built is nothing but the message it holds anyway.
     */
    private final Map<String, Pending> inflight = new ConcurrentHashMap<>();

    @Override
    public void received(Delivery delivery, TaskMessage m, Instant at) {
        if (m == null) {
            return; // undecodable: its fate (with an id when one could be read) is recorded when it is settled
        }
        Pending p = new Pending(delivery, m, at);
        if (closing || inflight.size() >= QUEUE || inflight.putIfAbsent(m.id(), p) != null) {
            emit(p); // closing, far too many at once, or the same id twice at once (a duplicate delivery): at once
        }
    }

    static TaskRecord receivedRecord(Pending p, String node) {
        TaskMessage m = p.message;
        return new TaskRecord(m.id(), m.task(), TaskState.RECEIVED, node, p.delivery.queue(), m.argsJson(),
                m.kwargsJson(), null, null, null, m.retries(), p.received, null, p.received, null, m.parentId(), m.rootId(), m.group(),
                List.of(), List.of(new TaskRecord.Step(TaskState.RECEIVED, p.received, node, m.retries(), null)));
    }

    static TaskRecord startedRecord(TaskMessage m, String queue, Instant at, String node) {
        return new TaskRecord(m.id(), m.task(), TaskState.STARTED, node, queue, null, null, null, null, null, m.retries(),
                null, at, at, null, m.parentId(), m.rootId(), m.group(), List.of(),
                List.of(new TaskRecord.Step(TaskState.STARTED, at, node, m.retries(), null)));
    }

    /** Queues the record of an unsettled message as it stands. */
    private void emit(Pending p) {
        offer(asItStands(p));
    }

    /** The record of an unsettled message as it stands (RECEIVED, or STARTED with both steps), from now on written. */
    private TaskRecord asItStands(Pending p) {
        TaskRecord r = receivedRecord(p, node);
        synchronized (p) {
            p.emitted = true;
            if (p.started != null) {
                r = TaskRecord.merge(r, startedRecord(p.message, p.delivery.queue(), p.started, node));
            }
        }
        return r;
    }

    @Override
    public void started(TaskMessage m, String queue, Instant at) {
        Pending p = inflight.get(m.id());
        if (p != null) {
            synchronized (p) {
                p.started = at;
                if (!p.emitted) {
                    return; // written with its outcome, or by the writer if it is still running after the linger
                }
            }
        }
        offer(startedRecord(m, queue, at, node));
    }

    @Override
    public void finished(Finished f) {
        Pending p = f.id() == null ? null : inflight.remove(f.id());
        if (p != null) {
            boolean emitted;
            synchronized (p) {
                p.settled = true;
                emitted = p.emitted;
            }
            TaskRecord r = record(f, node);
            if (r == null) {
                if (!emitted) {
                    offer(receivedRecord(p, node)); // put back or skipped: it was received all the same
                }
                return;
            }
            offer(emitted ? r : whole(p, r, node));
            return;
        }
        TaskRecord r = record(f, node);
        if (r != null) {
            offer(r);
        }
    }

    /**
     * The usual case: a run's one record, its outcome {@code r} with the args and kwargs and every step (RECEIVED,
     * STARTED, the outcome's) built at once; what {@link TaskRecord#merge} of the three would make, without its
     * joining of timelines (steps out of time order, from a clock stepped back, are left to it).
     */
    static TaskRecord whole(Pending p, TaskRecord r, String node) {
        TaskMessage m = p.message;
        TaskRecord.Step outcome = r.timeline().get(0);
        TaskRecord.Step received = new TaskRecord.Step(TaskState.RECEIVED, p.received, node, m.retries(), null);
        Instant started = p.started;
        if (r.timeline().size() != 1 || outcome.at().isBefore(started == null ? p.received : started)
                || started != null && started.isBefore(p.received)) {
            TaskRecord before = started == null ? receivedRecord(p, node)
                    : TaskRecord.merge(receivedRecord(p, node), startedRecord(m, r.queue(), started, node));
            return TaskRecord.merge(before, r);
        }
        List<TaskRecord.Step> steps = started == null ? List.of(received, outcome)
                : List.of(received, new TaskRecord.Step(TaskState.STARTED, started, node, m.retries(), null), outcome);
        return new TaskRecord(r.id(), r.name() == null ? m.task() : r.name(), r.state(), node, r.queue() == null ? p.delivery.queue() : r.queue(),
                m.argsJson(), m.kwargsJson(), r.result(), r.exception(), r.traceback(), Math.max(r.retries(), m.retries()), p.received,
                r.started() == null ? started : r.started(), r.updated(), r.runtime(), r.parentId() == null ? m.parentId() : r.parentId(),
                r.rootId() == null ? m.rootId() : r.rootId(), r.groupId() == null ? m.group() : r.groupId(), r.children(), steps);
    }

    /**
     * Called by the writer: adds to {@code batch} the records of messages unsettled {@value #LINGER_MS} ms after they
     * were received (all of them when {@code all}, at close); true if it added one.
     */
    private boolean emitOverdue(List<TaskRecord> batch, boolean all) {
        long now = System.nanoTime();
        boolean any = false;
        for (Pending p : inflight.values()) {
            if (!all && now - p.receivedNanos < LINGER_NANOS) {
                continue;
            }
            boolean due;
            synchronized (p) {
                due = !p.settled && !p.emitted;
            }
            if (due) {
                batch.add(asItStands(p));
                any = true;
            }
        }
        return any;
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
        long idleSince = System.nanoTime();
        while (true) {
            try {
                boolean closed = closing;
                TaskRecord first = queue.poll(closed ? 0 : LINGER_MS, TimeUnit.MILLISECONDS);
                if (first != null) {
                    batch.add(first);
                    if (!closed && queue.size() < GATHER) {
                        Thread.sleep(GATHER_MS);
                    }
                    queue.drainTo(batch, GATHER - 1);
                }
                emitOverdue(batch, closed); // at close, what is still in flight, as it stands
                if (batch.isEmpty()) {
                    if (closed) {
                        return;
                    }
                    if (unsettled && System.nanoTime() - idleSince >= SETTLE_AFTER_NANOS) { // idle: let the store index (Redis's log)
                        unsettled = false;
                        settle();
                    }
                } else {
                    List<TaskRecord> merged = merged(batch);
                    for (int from = 0; from < merged.size(); from += BATCH) {
                        write(merged.subList(from, Math.min(merged.size(), from + BATCH)));
                    }
                    batch.clear();
                    idleSince = System.nanoTime();
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
            unsettled = true;
            ended();
        } catch (RuntimeException e) {
            failed("cannot write the task history (" + store.describe() + ")", e);
            dropped.addAndGet(records.size());
            droppedInOutage += records.size();
        }
    }

    private void settle() {
        try {
            store.settle();
        } catch (RuntimeException e) {
            failed("cannot index the task history (" + store.describe() + ")", e);
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
