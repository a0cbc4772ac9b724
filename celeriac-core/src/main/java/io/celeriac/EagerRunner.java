package io.celeriac;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.canvas.Continuations;
import io.celeriac.config.Settings;
import io.celeriac.internal.CurrentTask;
import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.Delivery;
import io.celeriac.spi.Effects;
import io.celeriac.spi.InMemoryBackend;
import io.celeriac.spi.Settlement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code task_always_eager}: what a client sends goes into its own in-memory broker and is run at
 * once, on the sending thread, until nothing is left — so a send returns with the result stored, and
 * a chain's steps, a group's members, a chord's body and callbacks run in the order a worker would
 * take them. As Celery's {@code Task.apply}: a retry runs again at once (its countdown is not
 * waited for) under the same id with {@code retries + 1}; time limits are not enforced. What a run
 * causes is worked out by the worker's own {@link Continuations} and committed through the in-memory
 * store's {@code settle}, so chords count their parts as on a real broker.
 */
final class EagerRunner {
    private static final Logger log = LoggerFactory.getLogger("celeriac.eager");
    private final Celeriac app;
    private final Continuations continuations;
    private final boolean propagates;

    EagerRunner(Celeriac app) {
        this.app = app;
        this.continuations = new Continuations(app.dispatch(), app.clock());
        this.propagates = app.config().get(Settings.TASK_EAGER_PROPAGATES);
    }

    /** Runs every message waiting, those they cause included; with task_eager_propagates, then throws the first failure. */
    void drain() {
        Throwable failure = null;
        while (true) {
            List<String> queues = InMemoryBackend.queuesWithMessages(app.broker());
            if (queues.isEmpty()) {
                break;
            }
            List<Delivery> next;
            try {
                next = app.broker().reserve(queues, 1, Duration.ZERO);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while running tasks eagerly", e);
            }
            if (next.isEmpty()) {
                break;
            }
            Throwable t = run(next.get(0));
            if (failure == null) {
                failure = t;
            }
        }
        if (failure != null && propagates) {
            if (failure instanceof RuntimeException re) {
                throw re;
            }
            if (failure instanceof Error err) {
                throw err;
            }
            ExceptionInfo exc = ExceptionInfo.of(failure);
            TaskFailedException e = new TaskFailedException(null, exc.type(), exc.module(), exc.message(), exc.traceback());
            e.initCause(failure);
            throw e;
        }
    }

    /** Runs one message to its end; returns what it failed with, or null. */
    private Throwable run(Delivery d) {
        TaskMessage m = MessageCodec.decode(d.payload());
        TaskDefinition task = app.registry().find(m.task()).orElse(null);
        if (task == null) {
            TaskNotRegisteredException e = new TaskNotRegisteredException(m.task(), "registered tasks: "
                    + String.join(", ", app.registry().names()));
            fail(d, m, ExceptionInfo.of("NotRegistered", "celery.exceptions", m.task()));
            return e;
        }
        RetryPolicy policy = RetryPolicy.of(task.options(), app.config());
        int retries = m.retries();
        while (true) {
            Context ctx = new Context(m, retries, policy);
            Object value;
            Throwable error = null;
            Retry retry = null;
            CurrentTask.set(ctx);
            try {
                value = task.invoke(ctx, task.bind(m.args(), m.kwargs()));
            } catch (Retry r) {
                value = null;
                retry = r;
                error = r.getCause();
            } catch (ArgumentBindingException e) {
                value = null;
                error = e;
            } catch (Throwable t) {
                value = null;
                error = t;
                if (policy.autoretries(t)) {
                    retry = new Retry(t, app.clock().instant());
                }
            } finally {
                CurrentTask.set(null);
            }
            if (retry != null && retries < policy.maxRetries()) {
                log.info("Task {}[{}] retry {} (eager: now): {}", m.task(), m.id(), retries + 1,
                        error == null ? "retry" : ExceptionInfo.of(error).summary());
                retries++;
                continue;
            }
            if (error == null && retry == null) {
                succeed(d, m, task, value);
                return null;
            }
            if (error == null) {
                error = new IllegalStateException("task '" + m.task() + "' asked for a retry with its retries used up");
            }
            fail(d, m, error instanceof ArgumentBindingException
                    ? ExceptionInfo.of("TypeError", "builtins", error.getMessage()) : ExceptionInfo.of(error));
            return error;
        }
    }

    private void succeed(Delivery d, TaskMessage m, TaskDefinition task, Object value) {
        JsonNode json;
        try {
            json = Json.toTree(value);
        } catch (IllegalArgumentException e) {
            fail(d, m, ExceptionInfo.of("EncodeError", "kombu.exceptions", "task '" + m.task() + "' returned a "
                    + value.getClass().getName() + " that cannot be stored as JSON: " + e.getMessage()));
            return;
        }
        Continuations.After after = continuations.succeeded(m, json);
        TaskResult r = TaskResult.success(m.id(), json, app.clock().instant());
        if (after.children() != null && !after.children().isEmpty()) {
            r = r.withExtra("children", after.children());
        }
        boolean ignore = task.options().ignoreResult() || m.ignoreResult();
        settle(d, ignore ? null : r, after);
    }

    private void fail(Delivery d, TaskMessage m, ExceptionInfo exc) {
        log.info("Task {}[{}] raised: {}", m.task(), m.id(), exc.summary());
        settle(d, TaskResult.failure(m.id(), exc, app.clock().instant()), continuations.failed(m, exc));
    }

    private void settle(Delivery d, TaskResult result, Continuations.After after) {
        List<TaskResult> rs = new ArrayList<>();
        if (result != null) {
            rs.add(result);
        }
        rs.addAll(after.effects().results());
        app.results().settle(List.of(new Settlement(d, true, new Effects(rs, after.effects().publications(),
                after.effects().chordSizes()), after.chordParts())), app.broker());
    }

    /** A run's request: Celery's {@code self.request} for an eager call. */
    private final class Context implements TaskContext {
        private final TaskMessage m;
        private final int retries;
        private final RetryPolicy policy;

        Context(TaskMessage m, int retries, RetryPolicy policy) {
            this.m = m;
            this.retries = retries;
            this.policy = policy;
        }

        @Override public String id() { return m.id(); }

        @Override public String taskName() { return m.task(); }

        @Override public int retries() { return retries; }

        @Override public int maxRetries() { return policy.maxRetries(); }

        @Override public ObjectNode headers() {
            ObjectNode h = m.headers().deepCopy();
            h.put("retries", retries);
            return h;
        }

        @Override public ArrayNode args() { return m.args().deepCopy(); }

        @Override public ObjectNode kwargs() { return m.kwargs().deepCopy(); }

        @Override public String hostname() { return "eager@" + TaskMessage.hostName(); }

        @Override public Logger logger() { return LoggerFactory.getLogger("celeriac.task." + m.task()); }

        @Override public Retry retry(Throwable exc, Duration countdown) {
            if (countdown.isNegative()) {
                throw new IllegalArgumentException("retry countdown must not be negative");
            }
            return new Retry(exc, app.clock().instant().plus(countdown));
        }

        @Override public Retry retry(Throwable exc) {
            return retry(exc, policy.delay(retries, ThreadLocalRandom.current()));
        }

        @Override public void checkpoint() {
        }

        @Override public boolean softTimeLimitExceeded() { return false; }

        @Override public void sleep(Duration duration) throws InterruptedException {
            Thread.sleep(duration.toMillis());
        }

        /** TaskContext.updateState (Celery's update_state): stored at once, replaced by the final result. */
        public void updateState(String state, java.util.Map<String, ?> meta) {
            TaskState s = state == null || state.isBlank() ? null : TaskState.parse(state);
            if (s == null || s.ready() || s.equals(TaskState.PENDING)) {
                throw new IllegalArgumentException("updateState: '" + state + "' is not a state a running task can report"
                        + " (a custom one such as PROGRESS, or STARTED, RETRY)");
            }
            app.results().store(new TaskResult(m.id(), s, Json.toTree(meta), null, app.clock().instant(), null));
        }

        @Override public Celeriac app() { return app; }
    }
}
