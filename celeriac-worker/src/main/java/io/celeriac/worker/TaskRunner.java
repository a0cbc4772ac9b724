package io.celeriac.worker;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.ArgumentBindingException;
import io.celeriac.Retry;
import io.celeriac.SoftTimeLimitExceeded;
import io.celeriac.TaskDefinition;
import io.celeriac.internal.CurrentTask;
import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.protocol.Json;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Runs a task body on the calling thread and turns whatever happens into an {@link Outcome}: the
 * one piece of execution logic shared by the thread pool and the process pool's children.
 *
 * <ul>
 *   <li>arguments are bound first (a mismatch is FAILURE {@code TypeError});</li>
 *   <li>at the soft time limit the thread is interrupted; {@link io.celeriac.TaskContext#checkpoint()}
 *       and {@code sleep} then raise {@link SoftTimeLimitExceeded}, and an interruption that escapes
 *       the task is recorded as SoftTimeLimitExceeded too;</li>
 *   <li>an exception the retry policy covers becomes a retry after the back-off delay.</li>
 * </ul>
 */
final class TaskRunner {
    private static final ScheduledExecutorService TIMERS = timers();

    /** One daemon thread for soft limits; a cancelled timer leaves its queue at once (it holds the task's context). */
    private static ScheduledExecutorService timers() {
        java.util.concurrent.ScheduledThreadPoolExecutor e = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "celeriac-soft-limits");
            t.setDaemon(true);
            t.setContextClassLoader(TaskRunner.class.getClassLoader()); // not the app's (started from a task): it outlives recycles
            return t;
        });
        e.setRemoveOnCancelPolicy(true);
        return e;
    }

    private TaskRunner() {
    }

    static Outcome run(TaskDefinition task, RequestContext ctx, Duration softLimit) {
        try (TaskLog ignored = TaskLog.of(ctx.id(), ctx.taskName(), ctx.hostname())) {
            return runLogged(task, ctx, softLimit);
        }
    }

    private static Outcome runLogged(TaskDefinition task, RequestContext ctx, Duration softLimit) {
        if (ctx.trackStarted()) { // as Celery's trace: the pid of the process that runs the body
            ctx.store(io.celeriac.protocol.TaskResult.started(ctx.id(), ProcessHandle.current().pid(), ctx.hostname()));
        }
        Object[] args;
        try {
            args = task.bind(ctx.args(), ctx.kwargs());
        } catch (ArgumentBindingException e) {
            return new Outcome.Failure(ExceptionInfo.of("TypeError", "builtins", e.getMessage()));
        }
        ctx.softLimit(softLimit);
        SoftLimit guard = softLimit.isZero() ? null : new SoftLimit(ctx, Thread.currentThread(), softLimit);
        CurrentTask.set(ctx);
        try {
            return success(task, task.invoke(ctx, args));
        } catch (Retry r) {
            return new Outcome.RetryLater(r.eta(), r.getCause() == null ? null : ExceptionInfo.of(r.getCause()));
        } catch (Throwable t) {
            if (t instanceof VirtualMachineError vme && !(t instanceof StackOverflowError)) {
                throw vme; // out of memory and the like: this JVM is not safe to go on with
            }
            Throwable exc = ctx.softTimeLimitExceeded() && isInterruption(t) ? withCause(ctx.exceeded(), t) : t;
            if (ctx.policy().autoretries(exc)) {
                Duration delay = ctx.policy().delay(ctx.retries(), ThreadLocalRandom.current());
                return new Outcome.RetryLater(ctx.clock().instant().plus(delay), ExceptionInfo.of(exc));
            }
            return new Outcome.Failure(ExceptionInfo.of(exc));
        } finally {
            if (guard != null) {
                guard.done();
            }
            CurrentTask.set(null);
        }
    }

    private static boolean isInterruption(Throwable t) {
        return t instanceof InterruptedException || t instanceof ClosedByInterruptException || t instanceof SoftTimeLimitExceeded
                || (t.getCause() != null && t.getCause() != t && isInterruption(t.getCause()));
    }

    private static Throwable withCause(SoftTimeLimitExceeded e, Throwable cause) {
        if (cause != e && !(cause instanceof SoftTimeLimitExceeded)) {
            e.initCause(cause);
        }
        return cause instanceof SoftTimeLimitExceeded ? cause : e;
    }

    private static Outcome success(TaskDefinition task, Object value) {
        JsonNode json;
        try {
            json = Json.toTree(value);
        } catch (IllegalArgumentException e) {
            return new Outcome.Failure(ExceptionInfo.of("EncodeError", "kombu.exceptions",
                    "task '" + task.name() + "' returned a " + value.getClass().getName() + " that cannot be stored as JSON: "
                            + e.getMessage()));
        }
        return new Outcome.Success(json);
    }

    /**
     * Interrupts the task's thread at the soft limit, unless the task finished first. Firing and
     * finishing exclude each other, so a late timer can never interrupt the thread's next task.
     */
    private static final class SoftLimit {
        private final RequestContext ctx;
        private final Thread thread;
        private final ScheduledFuture<?> timer;
        private boolean fired;
        private boolean done;

        SoftLimit(RequestContext ctx, Thread thread, Duration limit) {
            this.ctx = ctx;
            this.thread = thread;
            this.timer = TIMERS.schedule(this::fire, limit.toNanos(), TimeUnit.NANOSECONDS);
        }

        private synchronized void fire() {
            if (!done) {
                fired = true;
                ctx.markSoftLimitFired();
                thread.interrupt();
            }
        }

        /** Called by the task's own thread when the task has ended. */
        synchronized void done() {
            done = true;
            timer.cancel(false);
            if (fired) {
                Thread.interrupted(); // do not leak the interruption into the next task
            }
        }
    }
}
