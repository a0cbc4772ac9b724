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
import io.celeriac.protocol.LogText;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Delivery;
import io.celeriac.spi.Effects;
import io.celeriac.spi.Publication;
import io.celeriac.spi.Settlement;
import io.celeriac.canvas.Continuations;
import io.celeriac.canvas.Dispatch;
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
    /** Told of every message's fate, from {@link #settle(TaskObserver.Finished, Settlement)} alone: stats, events, metrics, history. */
    private final Observers observers;
    private final Clock clock;
    private final BooleanSupplier coldStop;
    private final Finisher finisher;
    private final Revocations revocations;
    private final Supplier<Celeriac> app;
    /** Builds the messages a finished task causes (and turns messages into what the broker stores); ETAs parked by the broker. */
    private final Dispatch dispatch;
    private final Continuations continuations;
    private final Map<String, RetryPolicy> policies = new ConcurrentHashMap<>();
    private final Map<String, RequestContext> running = new ConcurrentHashMap<>();
    private final boolean resultExtended;
    /** task_payload_max_bytes: the largest message body accepted and result stored. */
    private final long payloadLimit;
    /** Task events ({@link TaskEvents#OFF} unless worker_send_task_events is on, or enable_events turned them on). */
    private volatile TaskEvents events;
    /** The tasks' own rate limits, overridden by the rate_limit control command. */
    final RateLimits rateLimits;
    /** Set by the time_limit control command, by task name. */
    final Map<String, TimeLimits> limitOverrides = new ConcurrentHashMap<>();
    /** Told when a run left this JVM unfit to go on (a VirtualMachineError in the thread pool), after its outcome was handed on. */
    private volatile java.util.function.Consumer<String> onFatal = reason -> { };
    /** Told first, before that run's message is given back: stop reserving and starting, so this JVM does not take it again. */
    private volatile Runnable onUnfit = () -> { };

    RequestHandler(WorkerOptions options, TaskRegistry registry, Broker broker, ResultStore results, WorkerPool pool,
                   Observers observers, Clock clock, BooleanSupplier coldStop, Finisher finisher, Revocations revocations,
                   Supplier<Celeriac> app, Dispatch dispatch) {
        this.options = options;
        this.registry = registry;
        this.rateLimits = new RateLimits(registry);
        this.broker = broker;
        this.results = results;
        this.pool = pool;
        this.observers = observers;
        this.clock = clock;
        this.coldStop = coldStop;
        this.finisher = finisher;
        this.revocations = revocations;
        this.app = app;
        this.dispatch = dispatch.parking();
        this.continuations = new Continuations(this.dispatch, clock);
        this.resultExtended = options.config().get(io.celeriac.config.Settings.RESULT_EXTENDED);
        this.payloadLimit = options.config().get(io.celeriac.config.Settings.TASK_PAYLOAD_MAX_BYTES);
        this.events = options.config().get(io.celeriac.config.Settings.WORKER_SEND_TASK_EVENTS)
                ? new TaskEvents(app.get().events(), options.nodeName()) : TaskEvents.OFF;
        observers.add(events);
    }

    void onFatal(java.util.function.Consumer<String> listener, Runnable unfit) {
        this.onFatal = listener;
        this.onUnfit = unfit;
    }

    /** The task events sender ({@link TaskEvents#OFF} when events are off). */
    TaskEvents events() {
        return events;
    }

    /** Celery's enable_events / disable_events; returns whether that changed anything. */
    synchronized boolean enableEvents(boolean on) {
        if (on == (events != TaskEvents.OFF)) {
            return false;
        }
        TaskEvents before = events;
        events = on ? new TaskEvents(app.get().events(), options.nodeName()) : TaskEvents.OFF;
        observers.replace(before, events);
        return true;
    }

    /** Whether this worker is running the task now. */
    boolean isRunning(String taskId) {
        return running.containsKey(taskId);
    }

    void handle(Delivery d) {
        TaskMessage m;
        try {
            m = MessageCodec.decode(d.payload(), payloadLimit);
        } catch (MalformedMessageException e) {
            observers.received(d, null, clock.instant());
            // Its id could be read: its sender gets a FAILURE under that id with the reason, not a wait for ever.
            ExceptionInfo exc = ExceptionInfo.of(e.excType(), e.excModule(), e.getMessage());
            TaskResult r = e.taskId() == null ? null : TaskResult.failure(e.taskId(), exc, clock.instant())
                    .withExtra("worker", Json.NODES.textNode(options.nodeName()));
            String reason = "malformed message: " + e.getMessage();
            settle(new TaskObserver.Finished(null, e.taskId(), e.task(), d.queue(), TaskObserver.Fate.REJECTED,
                            r == null ? null : r.state(), null, exc, reason, false, null, null, null, clock.instant()),
                    d, true, r, Continuations.After.NONE, deadLetterRecord(d, e.taskId(), e.task(), reason));
            return;
        }
        try (TaskLog ignored = TaskLog.of(m.id(), m.task(), options.nodeName())) {
            handle(d, m);
        }
    }

    private void handle(Delivery d, TaskMessage m) {
        Instant now = clock.instant();
        observers.received(d, m, now);
        Instant eta = m.eta().orElse(null);
        if (eta != null && eta.isAfter(now.plus(ETA_TOLERANCE))) {
            // A producer whose broker did not park it (Celery's clients on Redis put it on the queue at
            // once): park it durably in the broker, never in memory, and ack this delivery in the same step.
            settle(told(d, m, TaskObserver.Fate.DEFERRED, null, null, "eta " + CeleryTime.format(eta)),
                    d, true, null, Continuations.After.NONE, new Publication(d.queue(), dispatch.toBroker(m.republished(null, null))));
            return;
        }
        if (m.expires().map(now::isAfter).orElse(false)) {
            log.info("Task {} expired at {}; not run", m, m.expires().get());
            TaskResult r = TaskResult.revoked(m.id(), "expired", now);
            settle(told(d, m, TaskObserver.Fate.REVOKED, null, null, "expired"),
                    d, true, withRequestFields(r, m, d), continuations.revoked(m, r));
            return;
        }
        if (revocations.isRevoked(m.id())) {
            log.info("Task {} was revoked; not run", m);
            TaskResult r = TaskResult.revoked(m.id(), "revoked", now);
            settle(told(d, m, TaskObserver.Fate.REVOKED, null, null, "revoked"),
                    d, true, withRequestFields(r, m, d), continuations.revoked(m, r));
            return;
        }
        TaskDefinition task = registry.find(m.task()).orElse(null);
        if (task == null) {
            ExceptionInfo exc = ExceptionInfo.of("NotRegistered", "celery.exceptions", m.task());
            String reason = "unknown task '" + m.task() + "' (registered: " + String.join(", ", registry.names()) + ")";
            deadLetter(told(d, m, TaskObserver.Fate.REJECTED, null, exc, reason), d, m, reason,
                    withRequestFields(TaskResult.failure(m.id(), exc, now), m, d), continuations.failed(m, exc));
            return;
        }
        if (d.deliveryCount() > options.workerLostLimit()) {
            // Delivered again and again, never finished: whatever runs it dies. Stop the loop here.
            String reason = "delivered " + d.deliveryCount() + " times and never finished: each worker running it died"
                    + " (task_worker_lost_limit " + options.workerLostLimit() + ")";
            ExceptionInfo exc = ExceptionInfo.of("WorkerLostError", "billiard.exceptions", reason);
            deadLetter(told(d, m, TaskObserver.Fate.REJECTED, null, exc, reason), d, m, reason,
                    withRequestFields(TaskResult.failure(m.id(), exc, now), m, d), continuations.failed(m, exc));
            return;
        }
        if (d.redelivered() && alreadySucceeded(m)) {
            // Delivered again although it succeeded (a lease lapsed while it ran): its result and what
            // it caused were committed with that success, so only this delivery is left to ack.
            log.info("Task {} already succeeded; not run again", m);
            settle(told(d, m, TaskObserver.Fate.SKIPPED, null, null, "already succeeded"), d, true, null, Continuations.After.NONE);
            return;
        }
        run(d, m, task);
    }

    private boolean alreadySucceeded(TaskMessage m) {
        try {
            return results.get(m.id()).map(r -> r.state() == io.celeriac.TaskState.SUCCESS).orElse(false);
        } catch (RuntimeException e) {
            return false; // cannot tell: run it (at-least-once)
        }
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
        log.debug("Task {} received", m);
        RequestContext ctx = new RequestContext(m, options.nodeName(), policy, clock, app).from(d)
                .states(r -> persist("store state " + r.state() + " of " + m, () -> results.store(withRequestFields(r, m, d))),
                        options.trackStarted(task, m));
        long start = System.nanoTime();
        running.put(m.id(), ctx);
        if (revocations.knownTerminate(m.id())) {
            ctx.markTerminated(); // a terminate that arrived between the revocation check and now
        }
        Outcome outcome;
        String fatal = null;
        try {
            rateLimits.acquire(m.task()); // a rate-limited task waits for its turn here
            ctx.markStarted(clock.instant());
            start = System.nanoTime();
            observers.started(m, d.queue(), ctx.startedAt());
            outcome = pool.execute(task, ctx, limits.soft(), limits.hard());
        } catch (InterruptedException e) {
            outcome = null; // a cold shutdown: the message was given back
        } catch (VirtualMachineError e) {
            // Thread pool: out of memory (or the like) in this very JVM, which is not safe to go on with.
            // Its message is handled as a lost worker's (put back with the death counted in its headers,
            // or FAILURE naming the error once task_worker_lost_limit is spent), then the worker stops.
            fatal = e.toString();
            outcome = new Outcome.Lost(fatal + " in the worker's own JVM (thread pool)");
        } finally {
            running.remove(m.id());
        }
        if (fatal != null) {
            onUnfit.run();
        }
        try {
            record(d, m, task, ctx, outcome, acksLate, policy, start);
        } finally {
            if (fatal != null) {
                onFatal.accept("task " + m.task() + "[" + m.id() + "] ran this JVM out of memory or hit a JVM error (" + fatal + ")");
            }
        }
    }

    /** Records how a run ended (or what becomes of a message whose run did not start). */
    private void record(Delivery d, TaskMessage m, TaskDefinition task, RequestContext ctx, Outcome outcome, boolean acksLate,
                        RetryPolicy policy, long start) {
        Instant started = ctx.startedAt();
        Double secs = started == null ? null : (System.nanoTime() - start) / 1e9;
        if (outcome == null || coldStop.getAsBoolean()) {
            // cold shutdown: the message was given back; record nothing
            settle(ran(d, m, TaskObserver.Fate.DEFERRED, null, null, "cold shutdown: given back", started, secs), null);
            return;
        }
        Instant now = clock.instant();
        if (ctx.terminated()) {
            log.warn("Task {} terminated (revoked with terminate)", m);
            TaskResult r = TaskResult.revoked(m.id(), "terminated", now);
            settle(ran(d, m, TaskObserver.Fate.REVOKED, null, null, "terminated", started, secs),
                    d, acksLate, withRequestFields(r, m, d), continuations.revoked(m, r));
            return;
        }
        if (outcome instanceof Outcome.NotStarted ns) {
            // it never ran (no child came, and the worker is stopping): back on its queue, as it was
            log.info("Task {}[{}] not started ({}); put back on queue '{}'", m.task(), m.id(), ns.reason(), d.queue());
            settle(ran(d, m, TaskObserver.Fate.DEFERRED, null, null, "not started: " + ns.reason(), started, secs),
                    d, acksLate, null, Continuations.After.NONE, new Publication(d.queue(), dispatch.toBroker(m.republished(null, null))));
            return;
        }
        if (outcome instanceof Outcome.Success s && !(task.options().ignoreResult() || m.ignoreResult())) {
            outcome = ChildMain.withinLimit(m.task(), s, payloadLimit);
        }
        TaskResult result;
        TaskObserver.Finished fate;
        Continuations.After after = Continuations.After.NONE;
        Publication extra = null;
        if (outcome instanceof Outcome.Success s) {
            if (log.isInfoEnabled()) {
                log.info("Task {} succeeded in {}s: {}", m, String.format("%.6f", secs), abbreviate(s.value().toString()));
            }
            fate = ran(d, m, TaskObserver.Fate.SUCCESS, s.value(), null, null, started, secs);
            after = continuations.succeeded(m, s.value());
            boolean ignore = task.options().ignoreResult() || m.ignoreResult();
            result = ignore ? null : withRequestFields(TaskResult.success(m.id(), s.value(), now), m, d);
            if (result != null && after.children() != null && !after.children().isEmpty()) {
                result = result.withExtra("children", after.children());
            }
        } else if (outcome instanceof Outcome.RetryLater r) {
            Retried retried = retry(d, m, r, policy.maxRetries(), now);
            result = retried.result();
            extra = retried.next();
            if (extra == null) { // retries used up: a failure
                fate = ran(d, m, TaskObserver.Fate.FAILURE, null, result.exception(), "retries used up", started, secs);
                after = continuations.failed(m, result.exception());
            } else {
                fate = ran(d, m, TaskObserver.Fate.RETRY, null, r.cause(), null, started, secs);
            }
        } else if (outcome instanceof Outcome.Lost lost) {
            if (acksLate && options.rejectOnWorkerLost() && requeueAfterLoss(d, m, lost, started, secs)) {
                return;
            }
            ExceptionInfo exc = ExceptionInfo.of("WorkerLostError", "billiard.exceptions", lost.reason());
            fate = ran(d, m, TaskObserver.Fate.FAILURE, null, exc, lost.reason(), started, secs);
            result = fail(d, m, exc, now);
            after = continuations.failed(m, exc);
            extra = deadLetterOnFailure(d, m, exc);
        } else {
            ExceptionInfo exc = ((Outcome.Failure) outcome).exception();
            log.error("Task {} raised unexpected: {}{}", m, exc.summary(),
                    new io.celeriac.protocol.LogText.Multiline(exc.traceback() == null ? "" : "\n" + exc.traceback()));
            fate = ran(d, m, TaskObserver.Fate.FAILURE, null, exc, null, started, secs);
            result = fail(d, m, exc, now);
            after = continuations.failed(m, exc);
            extra = deadLetterOnFailure(d, m, exc);
        }
        if (secs != null && result != null
                && (result.state() == io.celeriac.TaskState.SUCCESS || result.state() == io.celeriac.TaskState.FAILURE)) {
            result = result.withExtra("runtime", Json.NODES.numberNode(Math.round(secs * 1e6) / 1e6));
        }
        settle(fate, d, acksLate, result, after, extra);
    }

    /** The FAILURE to record. */
    private TaskResult fail(Delivery d, TaskMessage m, ExceptionInfo exc, Instant now) {
        return withRequestFields(TaskResult.failure(m.id(), exc, now), m, d);
    }

    /** With {@code task_dead_letter_on_failure}: the failed message's dead-letter record, else null. */
    private Publication deadLetterOnFailure(Delivery d, TaskMessage m, ExceptionInfo exc) {
        return options.deadLetterOnFailure() ? deadLetterRecord(d, m, "task failed: " + exc.summary()) : null;
    }

    /**
     * With {@code task_reject_on_worker_lost} (the default): puts the message back with one more child death
     * counted in its headers, unless the count reached {@code task_worker_lost_limit}, in which
     * case it is dead-lettered (returns true when handled).
     */
    private boolean requeueAfterLoss(Delivery d, TaskMessage m, Outcome.Lost lost, Instant started, Double secs) {
        JsonNode h = m.header(WORKER_LOST_HEADER);
        int deaths = (h != null && h.canConvertToInt() ? h.intValue() : 0) + 1;
        if (deaths >= options.workerLostLimit()) {
            String reason = "its run " + (pool instanceof ProcessPool ? "killed the worker's child " : "brought the worker down ")
                    + deaths + " times (task_worker_lost_limit); last: " + lost.reason();
            ExceptionInfo exc = ExceptionInfo.of("WorkerLostError", "billiard.exceptions", reason);
            deadLetter(ran(d, m, TaskObserver.Fate.FAILURE, null, exc, reason, started, secs), d, m, reason,
                    withRequestFields(TaskResult.failure(m.id(), exc, clock.instant()), m, d), continuations.failed(m, exc));
            return true;
        }
        TaskMessage again = m.republished(WORKER_LOST_HEADER, Json.NODES.numberNode(deaths));
        log.warn("Task {}: {}; put back on queue '{}' (death {} of {} allowed)", m, lost.reason(), d.queue(),
                deaths, options.workerLostLimit() - 1);
        settle(ran(d, m, TaskObserver.Fate.LOST, null, null, lost.reason(), started, secs),
                d, true, null, Continuations.After.NONE, new Publication(d.queue(), dispatch.toBroker(again)));
        return true;
    }

    /** The state to record for a retry (RETRY, or FAILURE when retries are used up) and the next attempt's message (or null). */
    private record Retried(TaskResult result, Publication next) {
    }

    private Retried retry(Delivery d, TaskMessage m, Outcome.RetryLater r, int maxRetries, Instant now) {
        if (m.retries() >= maxRetries) {
            ExceptionInfo exc = r.cause() != null ? r.cause() : ExceptionInfo.of("MaxRetriesExceededError",
                    "celery.exceptions", "Can't retry " + m.task() + "[" + m.id() + "] args:" + m.args() + " kwargs:" + m.kwargs());
            log.error("Task {} failed after {} retries: {}", m, m.retries(), exc.summary());
            return new Retried(fail(d, m, exc, now), null);
        }
        TaskMessage next = m.withRetry(m.retries() + 1, r.eta());
        log.info("Task {} retry {}/{} in {} ms{}", m, m.retries() + 1, maxRetries,
                Duration.between(now, r.eta()).toMillis(), r.cause() == null ? "" : ": " + r.cause().summary());
        ExceptionInfo why = r.cause() != null ? r.cause() : ExceptionInfo.of("Retry", "celery.exceptions", "retry requested");
        // The next attempt is committed with this one's RETRY and ack, parked in the broker until its ETA.
        return new Retried(TaskResult.retry(m.id(), why), new Publication(d.queue(), dispatch.toBroker(next)));
    }

    /** {@code inspect active}: the tasks running now, in Celery's shape (args as reprs with {@code safe}). */
    com.fasterxml.jackson.databind.node.ArrayNode active(boolean safe) {
        var out = Json.NODES.arrayNode();
        boolean acknowledged = !options.acksLate();
        for (RequestContext ctx : running.values()) {
            out.add(CeleryReplies.request(ctx.message(), ctx.queue(), options.nodeName(), ctx.deliveryCount() > 1,
                    ctx.startedAt(), acknowledged, pool.pidOf(ctx), safe));
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

    /**
     * Celery's result fields beside the state: {@code group_id}, {@code parent_id}, and with
     * {@code result_extended} {@code name}, {@code args}, {@code kwargs}, {@code queue}; Celeriac
     * always adds who ran it and how many retries it took ({@code worker}, {@code retries}).
     */
    private TaskResult withRequestFields(TaskResult r, TaskMessage m, Delivery d) {
        ObjectNode e = Json.NODES.objectNode();
        if (r.extra().has("children")) {
            e.set("children", r.extra().get("children"));
        }
        if (m.group() != null) {
            e.put("group_id", m.group());
        }
        if (m.parentId() != null) {
            e.put("parent_id", m.parentId());
        }
        if (resultExtended) {
            e.put("name", m.task());
            e.set("args", m.args().deepCopy());
            e.set("kwargs", m.kwargs().deepCopy());
        }
        e.put("worker", options.nodeName());
        e.put("retries", m.retries());
        if (resultExtended) {
            e.put("queue", d.queue());
        }
        r.extra().properties().forEach(f -> {
            if (!e.has(f.getKey())) {
                e.set(f.getKey(), f.getValue());
            }
        });
        return new TaskResult(r.taskId(), r.state(), r.result(), r.traceback(), r.dateDone(), e);
    }

    /**
     * Records why a message cannot be run in the dead-letter queue, with the raw payload, and
     * commits that with {@code result} (may be null), what the failure causes, and the ack.
     */
    void deadLetter(TaskObserver.Finished fate, Delivery d, TaskMessage m, String reason, TaskResult result, Continuations.After after) {
        settle(fate, d, true, result, after, deadLetterRecord(d, m, reason));
    }

    private Publication deadLetterRecord(Delivery d, TaskMessage m, String reason) {
        return deadLetterRecord(d, m == null ? null : m.id(), m == null ? null : m.task(), reason);
    }

    private Publication deadLetterRecord(Delivery d, String id, String task, String reason) {
        String which = id == null ? "(undecodable)" : LogText.escape(task == null ? "?" : task) + "[" + LogText.escape(id) + "]";
        log.warn("Message {} from queue '{}' sent to dead-letter queue '{}': {}",
                which, LogText.escape(d.queue()), options.deadLetterQueue(), LogText.escape(reason));
        ObjectNode rec = Json.NODES.objectNode();
        rec.put("reason", reason);
        rec.put("queue", d.queue());
        if (task != null) {
            rec.put("task", task);
        }
        if (id != null) {
            rec.put("id", id);
        }
        rec.put("node", options.nodeName());
        rec.put("time", CeleryTime.format(clock.instant()));
        rec.put("delivery_count", d.deliveryCount());
        rec.put("payload", d.payload());
        return new Publication(options.deadLetterQueue(), new BrokerMessage(id, Json.write(rec), 0, null));
    }

    /** What became of {@code m}, which did not run. */
    private TaskObserver.Finished told(Delivery d, TaskMessage m, TaskObserver.Fate fate, JsonNode value, ExceptionInfo exc, String reason) {
        return ran(d, m, fate, value, exc, reason, null, null);
    }

    /** What became of {@code m}, whose run started at {@code started} (null: it did not) and took {@code secs}. */
    private TaskObserver.Finished ran(Delivery d, TaskMessage m, TaskObserver.Fate fate, JsonNode value, ExceptionInfo exc,
                                      String reason, Instant started, Double secs) {
        io.celeriac.TaskState state = switch (fate) {
            case SUCCESS -> io.celeriac.TaskState.SUCCESS;
            case FAILURE, REJECTED -> io.celeriac.TaskState.FAILURE;
            case RETRY -> io.celeriac.TaskState.RETRY;
            case REVOKED -> io.celeriac.TaskState.REVOKED;
            default -> null;
        };
        return new TaskObserver.Finished(m, m.id(), m.task(), d.queue(), fate, state, value, exc, reason, false, started, secs,
                null, clock.instant());
    }

    /**
     * Hands the end of this message's handling to the finisher, as one settlement, after telling the
     * observers what became of it (with whether it was dead-lettered and the children it caused).
     */
    private void settle(TaskObserver.Finished fate, Delivery d, boolean ack, TaskResult result, Continuations.After after,
                        Publication... more) {
        List<TaskResult> rs = new java.util.ArrayList<>();
        if (result != null) {
            rs.add(result);
        }
        rs.addAll(after.effects().results());
        List<Publication> pubs = new java.util.ArrayList<>(after.effects().publications());
        boolean deadLettered = false;
        for (Publication p : more) {
            if (p != null) { // a publication a path may or may not have (a retry's next attempt, a dead letter)
                pubs.add(p);
                deadLettered |= p.queue().equals(options.deadLetterQueue());
            }
        }
        TaskObserver.Finished f = fate;
        if (deadLettered || (after.children() != null && !after.children().isEmpty())) {
            f = new TaskObserver.Finished(fate.message(), fate.id(), fate.task(), fate.queue(), fate.fate(), fate.state(),
                    fate.result(), fate.exception(), fate.reason(), deadLettered, fate.started(), fate.runtime(),
                    childIds(after.children()), fate.at());
        }
        settle(f, new Settlement(d, ack, new Effects(rs, pubs, after.effects().chordSizes()), after.chordParts()));
    }

    /**
     * The one place where a message's fate is told: the observers first, then its settlement (null:
     * nothing to commit) to the finisher.
     */
    private void settle(TaskObserver.Finished fate, Settlement settlement) {
        observers.finished(fate);
        if (settlement != null) {
            finisher.submit(settlement);
        }
    }

    /** The task ids in a result's {@code children} (Celery's {@code as_tuple}s: {@code [[id, parent], group members]}). */
    static List<String> childIds(JsonNode children) {
        List<String> ids = new java.util.ArrayList<>();
        if (children != null) {
            children.forEach(t -> collectIds(t, ids));
        }
        return ids;
    }

    private static void collectIds(JsonNode tuple, List<String> ids) {
        if (tuple == null || !tuple.isArray() || tuple.isEmpty()) {
            return;
        }
        JsonNode head = tuple.get(0);
        JsonNode members = tuple.size() > 1 ? tuple.get(1) : null;
        if (members != null && members.isArray()) { // a group: its members
            members.forEach(t -> collectIds(t, ids));
        } else if (head != null && head.isArray() && head.size() > 0 && head.get(0).isTextual()) {
            ids.add(head.get(0).asText());
        }
    }

    private void persist(String what, Runnable op) {
        Persistently.run(what, op, coldStop, BrokerOutage.of(broker));
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 197) + "...";
    }
}
