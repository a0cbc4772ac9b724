package io.celeriac.worker;

import io.celeriac.TaskDefinition;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadFactory;

/**
 * Where task bodies run. The worker runs {@code concurrency} slot threads made by
 * {@link #slotThreads()}; each takes one message at a time, does the bookkeeping (expiry, results,
 * acks) and calls {@link #execute} for the body, which runs it in this JVM (thread pool) or in a
 * child JVM (process pool).
 *
 * <p>What each pool can enforce:
 * <table>
 *   <caption>time limits and isolation</caption>
 *   <tr><th></th><th>threads</th><th>process</th></tr>
 *   <tr><td>soft limit</td><td>interrupts the task's thread</td><td>same, inside the child</td></tr>
 *   <tr><td>hard limit</td><td>FAILURE at once; the thread is interrupted and abandoned, and keeps
 *       running if it ignores interruption (reported as stuck)</td><td>the child is killed (SIGTERM, then SIGKILL)
 *       and replaced</td></tr>
 *   <tr><td>a task that crashes the JVM</td><td>out of memory (any {@code VirtualMachineError}): the worker records why with the message, then exits</td><td>only its child: WorkerLostError</td></tr>
 *   <tr><td>memory leaks</td><td>stay</td><td>cleared by recycling children</td></tr>
 * </table>
 */
interface WorkerPool extends AutoCloseable {

    /** Shown in logs and stats, e.g. "threads (virtual)". */
    String describe();

    ThreadFactory slotThreads();

    /**
     * Starts what the pool needs and returns once it can run a task (the process pool: its first
     * child is ready); throws {@link WorkerStartException} when it cannot.
     */
    void start();

    /**
     * Runs the task body of {@code ctx}'s message, with the given limits (zero: none). Never throws
     * for anything the task does; throws {@link InterruptedException} only when the calling slot
     * thread is interrupted (a cold shutdown).
     */
    Outcome execute(TaskDefinition task, RequestContext ctx, Duration softLimit, Duration hardLimit) throws InterruptedException;

    /** Stops the run of {@code ctx} now, if it is running here (revoke with terminate). */
    void terminate(RequestContext ctx);

    Map<String, Object> stats();

    /** {@code stats()['pool']} in the shape of the Celery pool it stands for (prefork, threads), given the slots running now. */
    Map<String, Object> celeryStats(int concurrency);

    /** pool_grow / pool_shrink: {@code delta} more (or fewer) tasks at once; the worker adds or retires slots to match. */
    default void resize(int delta) {
    }

    /** The process running {@code ctx}'s task (the child's pid in the process pool). */
    default long pidOf(RequestContext ctx) {
        return ProcessHandle.current().pid();
    }

    /**
     * The worker is stopping: {@link #start} returns without waiting further, and a run still
     * waiting for a free child gives up with {@link Outcome.NotStarted}.
     */
    default void stopWaiting() {
    }

    /** Who to tell of the pool's events (children started, retired, lost; time-limit kills); set before {@link #start}. */
    default void observe(TaskObserver observer) {
    }

    /** Who to tell, once, when the pool can no longer run anything (process pool: no child can start). */
    default void onBroken(java.util.function.Consumer<String> listener) {
    }

    /** Stops the pool; running work has already finished or been given up. */
    @Override
    void close();
}
