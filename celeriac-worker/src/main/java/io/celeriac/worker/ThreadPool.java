package io.celeriac.worker;

import io.celeriac.TaskDefinition;
import io.celeriac.config.Durations;
import io.celeriac.protocol.ExceptionInfo;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code worker_pool: threads}: task bodies run in the worker's own JVM, on virtual threads where
 * the JVM has them (Java 21+), platform threads otherwise. Best for I/O-bound tasks.
 *
 * <p>A task without a hard limit runs on its slot thread. One with a hard limit runs on a thread of
 * its own that the slot waits for; at the limit the task is recorded as FAILURE
 * {@code TimeLimitExceeded}, its thread is interrupted and abandoned, and the slot goes on. A JVM
 * cannot kill a thread: an abandoned thread that ignores interruption keeps running (and holding
 * what it holds) until it ends; it is counted in {@code stuck_threads} and logged with its stack.
 */
final class ThreadPool implements WorkerPool {
    private static final Logger log = LoggerFactory.getLogger("celeriac.worker");

    private final ThreadFactory threads;
    private final boolean virtual;
    private final ExecutorService bodies;
    private final Map<RequestContext, Thread> running = new ConcurrentHashMap<>();
    private static final int RUNNING = 0;
    private static final int DONE = 1;
    private static final int ABANDONED = 2;
    /** Threads still running a task that was abandoned at its hard limit. */
    private final Set<Thread> abandoned = ConcurrentHashMap.newKeySet();
    private final AtomicInteger timeLimitKills = new AtomicInteger();
    private volatile TaskObserver observer = new TaskObserver() { };

    ThreadPool() {
        ThreadFactory v = virtualThreads("celeriac-task-");
        this.virtual = v != null;
        this.threads = v != null ? v : platformThreads("celeriac-task-");
        this.bodies = Executors.newCachedThreadPool(v != null ? virtualThreads("celeriac-limited-") : platformThreads("celeriac-limited-"));
    }

    /** {@code Thread.ofVirtual().name(prefix, 0).factory()} when this JVM has it (looked up so we still run on 17). */
    static ThreadFactory virtualThreads(String prefix) {
        try {
            Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
            Class<?> b = Class.forName("java.lang.Thread$Builder");
            builder = b.getMethod("name", String.class, long.class).invoke(builder, prefix, 0L);
            Method factory = b.getMethod("factory");
            return (ThreadFactory) factory.invoke(builder);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // Java 17-20 (or preview off)
        }
    }

    static ThreadFactory platformThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public String describe() {
        return virtual ? "threads (virtual)" : "threads (platform)";
    }

    @Override
    public ThreadFactory slotThreads() {
        return threads;
    }

    @Override
    public void start() {
    }

    @Override
    public Outcome execute(TaskDefinition task, RequestContext ctx, Duration softLimit, Duration hardLimit) throws InterruptedException {
        if (hardLimit.isZero()) {
            return runHere(task, ctx, softLimit);
        }
        // RUNNING → DONE when the body ends first; RUNNING → ABANDONED when the limit passes first.
        AtomicInteger state = new AtomicInteger(RUNNING);
        Thread[] body = new Thread[1];
        Future<Outcome> f = bodies.submit(() -> {
            body[0] = Thread.currentThread();
            try {
                return runHere(task, ctx, softLimit);
            } finally {
                if (!state.compareAndSet(RUNNING, DONE)) {
                    abandoned.remove(Thread.currentThread());
                    log.warn("Task {}[{}], abandoned at its hard time limit, has now ended on thread {}",
                            ctx.taskName(), ctx.id(), Thread.currentThread().getName());
                }
            }
        });
        try {
            return f.get(hardLimit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Error err) {
                throw err;
            }
            return new Outcome.Failure(ExceptionInfo.of(cause));
        } catch (TimeoutException e) {
            timeLimitKills.incrementAndGet();
            observer.pool(TaskObserver.PoolEvent.TIME_LIMIT_KILL, ProcessHandle.current().pid());
            Thread t = body[0];
            if (state.compareAndSet(RUNNING, ABANDONED) && t != null) {
                abandoned.add(t);
                StringBuilder stack = new StringBuilder();
                for (StackTraceElement el : t.getStackTrace()) {
                    stack.append("\n\tat ").append(el);
                }
                log.error("Task {}[{}] hit its hard time limit of {}: recorded as TimeLimitExceeded; its thread {} was interrupted"
                        + " and abandoned (the thread pool cannot kill it; use the process pool for that). It was at:{}",
                        ctx.taskName(), ctx.id(), Durations.format(hardLimit), t.getName(), stack);
            }
            f.cancel(true); // interrupt; a thread that ignores it runs on, abandoned
            return new Outcome.Failure(TimeLimits.exceeded(ctx, hardLimit));
        } catch (InterruptedException e) {
            f.cancel(true);
            throw e;
        }
    }

    /** Runs the task on the calling thread, registered so that a terminate can interrupt it. */
    private Outcome runHere(TaskDefinition task, RequestContext ctx, Duration softLimit) {
        if (!register(ctx, Thread.currentThread())) {
            return new Outcome.Lost("terminated before it started");
        }
        try {
            return TaskRunner.run(task, ctx, softLimit);
        } finally {
            running.remove(ctx);
        }
    }

    /** Registers the thread running {@code ctx}, unless it was terminated before it started. */
    private boolean register(RequestContext ctx, Thread t) {
        synchronized (ctx) {
            if (ctx.terminated()) {
                return false;
            }
            running.put(ctx, t);
            return true;
        }
    }

    @Override
    public void terminate(RequestContext ctx) {
        Thread t;
        synchronized (ctx) {
            ctx.markTerminated();
            t = running.get(ctx);
        }
        if (t != null) {
            t.interrupt();
        }
    }

    /** Threads still running a task abandoned at its hard limit. */
    int stuckThreads() {
        return abandoned.size();
    }

    /** As Celery's threads pool: {@code max-concurrency} and {@code threads}. */
    @Override
    public Map<String, Object> celeryStats(int concurrency) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("max-concurrency", concurrency);
        m.put("threads", concurrency);
        return m;
    }

    @Override
    public void observe(TaskObserver observer) {
        this.observer = observer;
    }

    @Override
    public Map<String, Object> stats() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("implementation", describe());
        m.put("time_limit_kills", timeLimitKills.get());
        m.put("stuck_threads", stuckThreads());
        return m;
    }

    @Override
    public void close() {
        bodies.shutdown();
        int stuck = stuckThreads();
        if (stuck > 0) {
            log.warn("{} abandoned task thread(s) still running at shutdown: {}", stuck,
                    abandoned.stream().map(Thread::getName).toList());
        }
    }
}
