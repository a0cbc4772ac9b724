package io.celeriac;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method as a task. Register the object (or, for static methods, the class) with
 * {@link TaskRegistry#register(Object)}.
 *
 * <pre>{@code
 * public class Maths {
 *     @Task(name = "add")
 *     public int add(int x, int y) { return x + y; }
 *
 *     @Task(name = "scrape", maxRetries = 5, rateLimit = "10/s")
 *     public Report scrape(TaskContext ctx, String source) { ... }   // a bound task
 * }
 * }</pre>
 *
 * <p>A first parameter of type {@link TaskContext} makes the task bound (Celery's {@code bind=True}).
 * The other parameters are bound from the message's args and kwargs by position and by name;
 * names come from {@link Param} or, when the code is compiled with {@code -parameters}, the
 * parameter names themselves. The return value is the result, written as JSON; a thrown exception
 * is a FAILURE (or a retry, when it matches {@link #autoretryFor()}). Options left at their default
 * (-1, empty, {@link Toggle#DEFAULT}) take the app-wide setting named beside them.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Task {
    /**
     * The task name (what senders use). Empty: the method name.
     *
     * @return the task name, or empty
     */
    String name() default "";

    /**
     * Queue the task is sent to by default. Empty: {@code task_default_queue}.
     *
     * @return the default queue, or empty
     */
    String queue() default "";

    /**
     * Default priority 0–9 (lower runs first). -1: 0.
     *
     * @return the default priority, or -1
     */
    int priority() default -1;

    /**
     * Retries allowed before FAILURE. -1: {@code task_max_retries}.
     *
     * @return the retries allowed, or -1
     */
    int maxRetries() default -1;

    /**
     * Delay of a retry requested without a countdown, in seconds. -1: {@code task_default_retry_delay}.
     *
     * @return the delay in seconds, or -1
     */
    double defaultRetryDelay() default -1;

    /**
     * Do not store the result of a successful run (failures are still stored).
     *
     * @return true to drop successful results
     */
    boolean ignoreResult() default false;

    /**
     * Acknowledge after the task finished (true), when it starts (false), or as {@code task_acks_late} says.
     *
     * @return when to acknowledge
     */
    Toggle acksLate() default Toggle.DEFAULT;

    /**
     * Store state STARTED, with {@code {"pid": …, "hostname": …}}, when a worker begins the task
     * (Celery's {@code track_started}); DEFAULT: {@code task_track_started}.
     *
     * @return whether STARTED is stored
     */
    Toggle trackStarted() default Toggle.DEFAULT;

    /**
     * Exceptions that make the task retry by itself (Celery's {@code autoretry_for}). Empty: {@code task_autoretry_for}.
     *
     * @return the exception types retried automatically
     */
    Class<? extends Throwable>[] autoretryFor() default {};

    /**
     * Exceptions that never trigger an automatic retry. Empty: {@code task_dont_autoretry_for}.
     *
     * @return the exception types never retried automatically
     */
    Class<? extends Throwable>[] dontAutoretryFor() default {};

    /**
     * Back-off base in seconds (1: 1 s, 2 s, 4 s, …); 0: no back-off; -1: {@code task_retry_backoff}.
     *
     * @return the back-off base in seconds, 0 or -1
     */
    double retryBackoff() default -1;

    /**
     * Longest back-off in seconds; -1: {@code task_retry_backoff_max}.
     *
     * @return the longest back-off in seconds, or -1
     */
    double retryBackoffMax() default -1;

    /**
     * Randomise each back-off between 0 and its computed value; DEFAULT: {@code task_retry_jitter}.
     *
     * @return whether back-offs are randomised
     */
    Toggle retryJitter() default Toggle.DEFAULT;

    /**
     * Soft time limit in seconds ({@code SoftTimeLimitExceeded} in the task); 0: none; -1: {@code task_soft_time_limit}.
     *
     * @return the soft limit in seconds, 0 or -1
     */
    double softTimeLimit() default -1;

    /**
     * Hard time limit in seconds (the task is stopped, FAILURE {@code TimeLimitExceeded}); 0: none; -1: {@code task_time_limit}.
     *
     * @return the hard limit in seconds, 0 or -1
     */
    double timeLimit() default -1;

    /**
     * Most starts per second, minute or hour on one worker, as Celery's {@code rate_limit}: "10/s",
     * "100/m", "1000/h", or a bare number per second. Empty: no limit. The {@code rate_limit}
     * remote-control command overrides it while a worker runs; {@code task_annotations} over it.
     */
    String rateLimit() default "";

    /** A yes/no option that can also be left to the app-wide setting. */
    enum Toggle {
        /** Left to the app-wide setting. */
        DEFAULT,
        /** On, whatever the setting. */
        TRUE,
        /** Off, whatever the setting. */
        FALSE;

        /** @return true, false, or null for DEFAULT */
        public Boolean value() {
            return this == DEFAULT ? null : this == TRUE;
        }
    }
}
