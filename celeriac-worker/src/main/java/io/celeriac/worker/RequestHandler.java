package io.celeriac.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Celeriac;
import io.celeriac.MalformedMessageException;
import io.celeriac.RetryPolicy;
import io.celeriac.TaskDefinition;
import io.celeriac.TaskRegistry;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Delivery;
import io.celeriac.spi.ResultStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes one delivered message through its whole life in the worker: decode, the checks that keep
 * it from running (ETA, expiry, revocation, unknown task, a crash loop), the run in the pool, then
 * retry or record, handing the outcome to the {@link Finisher}. Every call ends with exactly one
 * completion for the delivery. Nothing a message or a task does can make this throw: a bad message
 * ends in the dead-letter queue, a bad task in a FAILURE result.
 */
final class RequestHandler {
    private static final Logger log = LoggerFactory.getLogger("celeriac.worker");
    /** A message delivered this early for its ETA (clock skew between hosts) is run rather than parked again. */
    private static final Duration ETA_TOLERANCE = Duration.ofMillis(50);
    /** Header counting the child processes a message's runs have killed (with task_reject_on_worker_lost). */
    static final String WORKER_LOST_HEADER = "celeriac_worker_lost";

    private final WorkerOptions options;
    private final TaskRegistry registry;
    private final Broker broker;
    private final ResultStore results;
    private final WorkerPool pool;
    private final WorkerStats stats;
    private final Clock clock;
    private final BooleanSupplier coldStop;
    private final Finisher finisher;
    private final Revocations revocations;
    private final Supplier<Celeriac> app;
    private final Map<String, RetryPolicy> policies = new ConcurrentHashMap<>();
    private final Map<String, RequestContext> running = new ConcurrentHashMap<>();
    private final boolean resultExtended;
    /** Task events ({@link TaskEvents#OFF} unless worker_send_task_events is on). */
    private final TaskEvents events;
    /** Set by the rate_limit control command. */
    final RateLimits rateLimits = new RateLimits();
    /** Set by the time_limit control command, by task name. */
    final Map<String, TimeLimits> limitOverrides = new ConcurrentHashMap<>();

    RequestHandler(WorkerOptions options, TaskRegistry registry, Broker broker, ResultStore results, WorkerPool pool,
                   WorkerStats stats, Clock clock, BooleanSupplier coldStop, Finisher finisher, Revocations revocations,
                   Supplier<Celeriac> app) {
        this.options = options;
        this.registry = registry;
        this.broker = broker;
        this.results = results;
        this.pool = pool;
        this.stats = stats;
        this.clock = clock;
        this.coldStop = coldStop;
        this.finisher = finisher;
        this.revocations = revocations;
        this.app = app;
        this.resultExtended = options.config().get(io.celeriac.config.Settings.RESULT_EXTENDED);
        this.events = options.config().get(io.celeriac.config.Settings.WORKER_SEND_TASK_EVENTS)
                ? new TaskEvents(broker.events(), options.nodeName()) : TaskEvents.OFF;
    }

    /** The task events sender ({@link TaskEvents#OFF} when events are off). */
    TaskEvents events() {
        return events;
    }

    void handle(Delivery d) {
        TaskMessage m;
        try {
            m = MessageCodec.decode(d.payload());
        } catch (MalformedMessageException e) {
            deadLetter(d, null, "malformed message: " + e.getMessage(), null);
            return;
        }
        events.received(m);
        Instant now = clock.instant();
        Instant eta = m.eta().orElse(null);
        if (eta != null && eta.isAfter(now.plus(ETA_TOLERANCE))) {
            // A producer whose broker did not park it (e.g. a raw push): park it durably, never in memory.
            TaskMessage parked = m.republished(null, null);
            persist("park " + m + " until its ETA", () -> broker.publish(d.queue(),
                    new BrokerMessage(m.id(), MessageCodec.encode(parked), clampPriority(m.priority()), eta)));
            finish(null, d, true);
            return;
        }
        if (m.expires().map(now::isAfter).orElse(false)) {
            log.info("Task {}[{}] expired at {}; not run", m.task(), m.id(), m.expires().get());
            stats.revoked.incrementAndGet();
            events.revoked(m, true, false);
            finish(TaskResult.revoked(m.id(), "expired", now), d, true);
            return;
        }
        if (revocations.isRevoked(m.id())) {
            log.info("Task {}[{}] was revoked; not run", m.task(), m.id());
            stats.revoked.incrementAndGet();
            events.revoked(m, false, false);
            finish(TaskResult.revoked(m.id(), "revoked", now), d, true);
            return;
        }
        TaskDefinition task = registry.find(m.task()).orElse(null);
        if (task == null) {
            deadLetter(d, m, "unknown task '" + m.task() + "' (registered: " + String.join(", ", registry.names()) + ")",
                    TaskResult.failure(m.id(), ExceptionInfo.of("NotRegistered", "celery.exceptions", m.task()), now));
            return;
        }
        if (d.deliveryCount() > options.workerLostLimit()) {
            // Delivered again and again, never finished: whatever runs it dies. Stop the loop here.
            String reason = "delivered " + d.deliveryCount() + " times and never finished: each worker running it died"
                    + " (task_worker_lost_limit " + options.workerLostLimit() + ")";
            deadLetter(d, m, reason, withRequestFields(TaskResult.failure(m.id(),
                    ExceptionInfo.of("WorkerLostError", "billiard.exceptions", reason), now), m));
            return;
        }
        run(d, m, task);
    }

    private void run(Delivery d, TaskMessage m, TaskDefinition task) {
        boolean acksLate = task.options().acksLate() != null ? task.options().acksLate() : options.acksLate();
        RetryPolicy policy = policies.computeIfAbsent(task.name(), n -> RetryPolicy.of(task.options(), options.config()));
        TimeLimits limits = TimeLimits.of(m, task, options.config());
        TimeLimits override = limitOverrides.get(task.name());
        if (override != null && m.softTimeLimit() == null && m.hardTimeLimit() == null) {
            limits = override; // set by the time_limit control command; a per-call limit still wins
        }
        if (!acksLate) {
            // at-most-once, by request: a crash from here on loses the task
            persist("ack " + m, () -> broker.ack(List.of(d)));
        }
        if (options.trackStarted()) {
            persist("store STARTED of " + m, () -> results.store(
                    TaskResult.started(m.id(), ProcessHandle.current().pid(), options.nodeName())));
        }
        log.debug("Task {}[{}] received", m.task(), m.id());
        RequestContext ctx = new RequestContext(m, options.nodeName(), policy, clock, app).from(d);
        long start = System.nanoTime();
        stats.active.incrementAndGet();
        stats.total.computeIfAbsent(m.task(), n -> new java.util.concurrent.atomic.AtomicLong()).incrementAndGet();
        running.put(m.id(), ctx);
        if (revocations.knownTerminate(m.id())) {
            ctx.markTerminated(); // a terminate that arrived between the revocation check and now
        }
        Outcome outcome;
        try {
            rateLimits.acquire(m.task()); // a rate-limited task waits for its turn here
            ctx.markStarted(clock.instant());
            events.started(m, ProcessHandle.current().pid());
            outcome = pool.execute(task, ctx, limits.soft(), limits.hard());
        } catch (InterruptedException e) {
            outcome = null; // a cold shutdown: the message was given back
        } finally {
            running.remove(m.id());
            stats.active.decrementAndGet();
        }
        if (outcome == null || coldStop.getAsBoolean()) {
            finish(null, d, false); // cold shutdown: the message was given back; record nothing
            return;
        }
        Instant now = clock.instant();
        if (ctx.terminated()) {
            stats.revoked.incrementAndGet();
            log.warn("Task {}[{}] terminated (revoked with terminate)", m.task(), m.id());
            events.revoked(m, false, true);
            finish(TaskResult.revoked(m.id(), "terminated", now), d, acksLate);
            return;
        }
        double secs = (System.nanoTime() - start) / 1e9;
        TaskResult result;
        if (outcome instanceof Outcome.Success s) {
            stats.succeeded.incrementAndGet();
            if (log.isInfoEnabled()) {
                log.info("Task {}[{}] succeeded in {}s: {}", m.task(), m.id(), String.format("%.6f", secs), abbreviate(s.value().toString()));
            }
            events.succeeded(m, s.value(), secs);
            boolean ignore = task.options().ignoreResult() || m.ignoreResult();
            result = ignore ? null : withRequestFields(TaskResult.success(m.id(), s.value(), now), m);
        } else if (outcome instanceof Outcome.RetryLater r) {
            result = retry(d, m, r, policy.maxRetries(), now);
        } else if (outcome instanceof Outcome.Lost lost) {
            if (acksLate && options.rejectOnWorkerLost() && requeueAfterLoss(d, m, lost)) {
                return;
            }
            result = fail(d, m, ExceptionInfo.of("WorkerLostError", "billiard.exceptions", lost.reason()), now);
        } else {
            ExceptionInfo exc = ((Outcome.Failure) outcome).exception();
            log.error("Task {}[{}] raised unexpected: {}\n{}", m.task(), m.id(), exc.summary(),
                    exc.traceback() == null ? "" : exc.traceback());
            result = fail(d, m, exc, now);
        }
        stats.lastTaskDoneMillis = System.currentTimeMillis();
        if (result != null && (result.state() == io.celeriac.TaskState.SUCCESS || result.state() == io.celeriac.TaskState.FAILURE)) {
            result = result.withExtra("runtime", Json.NODES.numberNode(Math.round(secs * 1e6) / 1e6));
        }
        finish(result, d, acksLate);
    }

    /** The FAILURE to record; with {@code task_dead_letter_on_failure} the message goes to the dead-letter queue too. */
    private TaskResult fail(Delivery d, TaskMessage m, ExceptionInfo exc, Instant now) {
        stats.failed.incrementAndGet();
        events.failed(m, exc);
        TaskResult failure = withRequestFields(TaskResult.failure(m.id(), exc, now), m);
        if (options.deadLetterOnFailure()) {
            publishDeadLetter(d, m, "task failed: " + exc.summary());
        }
        return failure;
    }

    /**
     * With {@code task_reject_on_worker_lost}: puts the message back with one more child death
     * counted in its headers, unless the count reached {@code task_worker_lost_limit}, in which
     * case it is dead-lettered (returns true when handled).
     */
    private boolean requeueAfterLoss(Delivery d, TaskMessage m, Outcome.Lost lost) {
        JsonNode h = m.header(WORKER_LOST_HEADER);
        int deaths = (h != null && h.canConvertToInt() ? h.intValue() : 0) + 1;
        if (deaths >= options.workerLostLimit()) {
            String reason = "its run killed the worker's child " + deaths + " times (task_worker_lost_limit); last: " + lost.reason();
            stats.failed.incrementAndGet();
            deadLetter(d, m, reason, withRequestFields(TaskResult.failure(m.id(),
                    ExceptionInfo.of("WorkerLostError", "billiard.exceptions", reason), clock.instant()), m));
            return true;
        }
        TaskMessage again = m.republished(WORKER_LOST_HEADER, Json.NODES.numberNode(deaths));
        persist("requeue " + m + " after its child died", () -> broker.publish(d.queue(),
                new BrokerMessage(again.id(), MessageCodec.encode(again), clampPriority(again.priority()), null)));
        log.warn("Task {}[{}]: {}; put back on queue '{}' (death {} of {} allowed)", m.task(), m.id(), lost.reason(), d.queue(),
                deaths, options.workerLostLimit() - 1);
        finish(null, d, true);
        return true;
    }

    /** Publishes the next attempt, or gives up; returns the state to record (RETRY or FAILURE). */
    private TaskResult retry(Delivery d, TaskMessage m, Outcome.RetryLater r, int maxRetries, Instant now) {
        if (m.retries() >= maxRetries) {
            ExceptionInfo exc = r.cause() != null ? r.cause() : ExceptionInfo.of("MaxRetriesExceededError",
                    "celery.exceptions", "Can't retry " + m.task() + "[" + m.id() + "] args:" + m.args() + " kwargs:" + m.kwargs());
            log.error("Task {}[{}] failed after {} retries: {}", m.task(), m.id(), m.retries(), exc.summary());
            return fail(d, m, exc, now);
        }
        TaskMessage next = m.withRetry(m.retries() + 1, r.eta());
        // Publish the next attempt before this one is acked: a crash in between runs it twice, never zero times.
        persist("publish retry of " + m, () -> broker.publish(d.queue(),
                new BrokerMessage(next.id(), MessageCodec.encode(next), clampPriority(next.priority()), r.eta())));
        stats.retried.incrementAndGet();
        events.retried(m, r.cause());
        log.info("Task {}[{}] retry {}/{} in {} ms{}", m.task(), m.id(), m.retries() + 1, maxRetries,
                Duration.between(now, r.eta()).toMillis(), r.cause() == null ? "" : ": " + r.cause().summary());
        ExceptionInfo why = r.cause() != null ? r.cause() : ExceptionInfo.of("Retry", "celery.exceptions", "retry requested");
        return TaskResult.retry(m.id(), why);
    }

    /** {@code inspect active}: the tasks running now, in Celery's shape. */
    com.fasterxml.jackson.databind.node.ArrayNode active() {
        var out = Inspection.array();
        for (RequestContext ctx : running.values()) {
            out.add(Inspection.running(ctx, ctx.queue(), options.nodeName(), pool.pidOf(ctx)));
        }
        return out;
    }

    /** Revoke with terminate: stops the run of {@code taskId} if this worker is running it. */
    void terminate(String taskId) {
        RequestContext ctx = running.get(taskId);
        if (ctx != null) {
            log.warn("Terminating task {}[{}]: revoked with terminate", ctx.taskName(), taskId);
            pool.terminate(ctx);
        }
    }

    private TaskResult withRequestFields(TaskResult r, TaskMessage m) {
        // as Celery's result_extended: who ran it and how many retries it took; with
        // result_extended also its name and arguments
        com.fasterxml.jackson.databind.node.ObjectNode e = r.extra().deepCopy();
        e.put("worker", options.nodeName());
        e.put("retries", m.retries());
        if (resultExtended) {
            e.put("name", m.task());
            e.set("args", m.args().deepCopy());
            e.set("kwargs", m.kwargs().deepCopy());
        }
        if (m.parentId() != null) {
            e.put("parent_id", m.parentId());
        }
        if (m.group() != null) {
            e.put("group_id", m.group());
        }
        return new TaskResult(r.taskId(), r.state(), r.result(), r.traceback(), r.dateDone(), e);
    }

    /**
     * Records why a message cannot be run in the dead-letter queue, with the raw payload, then
     * stores {@code result} (may be null) and acks it.
     */
    void deadLetter(Delivery d, TaskMessage m, String reason, TaskResult result) {
        publishDeadLetter(d, m, reason);
        finish(result, d, true);
    }

    private void publishDeadLetter(Delivery d, TaskMessage m, String reason) {
        stats.deadLettered.incrementAndGet();
        log.warn("Message {} from queue '{}' sent to dead-letter queue '{}': {}",
                m == null ? "(undecodable)" : m.toString(), d.queue(), options.deadLetterQueue(), reason);
        ObjectNode rec = Json.NODES.objectNode();
        rec.put("reason", reason);
        rec.put("queue", d.queue());
        if (m != null) {
            rec.put("task", m.task());
            rec.put("id", m.id());
        }
        rec.put("node", options.nodeName());
        rec.put("time", CeleryTime.format(clock.instant()));
        rec.put("delivery_count", d.deliveryCount());
        rec.put("payload", d.payload());
        persist("dead-letter a message", () -> broker.publish(options.deadLetterQueue(),
                new BrokerMessage(m == null ? null : m.id(), Json.write(rec), 0, null)));
    }

    private void finish(TaskResult result, Delivery d, boolean ack) {
        finisher.submit(new Finisher.Completion(result, d, ack));
    }

    private void persist(String what, Runnable op) {
        Persistently.run(what, op, coldStop, BrokerOutage.of(broker));
    }

    private static int clampPriority(int p) {
        return Math.max(0, Math.min(9, p));
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 197) + "...";
    }
}
