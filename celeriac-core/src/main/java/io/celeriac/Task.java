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
 *     @Task(name = "scrape", maxRetries = 5)
 *     public Report scrape(TaskContext ctx, String source) { ... }   // a bound task
 * }
 * }</pre>
 *
 * A first parameter of type {@link TaskContext} makes the task bound (Celery's {@code bind=True}).
 * The other parameters are bound from the message's args and kwargs by position and by name;
 * names come from {@link Param} or, when the code is compiled with {@code -parameters}, the
 * parameter names themselves.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Task {
    /** The task name (what senders use). Empty: the method name. */
    String name() default "";

    /** Queue the task is sent to by default. Empty: {@code task_default_queue}. */
    String queue() default "";

    /** Default priority 0–9 (lower runs first). -1: 0. */
    int priority() default -1;

    /** Retries allowed before FAILURE. -1: {@code task_max_retries}. */
    int maxRetries() default -1;

    /** Delay of a retry requested without a countdown, in seconds. -1: {@code task_default_retry_delay}. */
    double defaultRetryDelay() default -1;

    /** Do not store the result of a successful run (failures are still stored). */
    boolean ignoreResult() default false;

    /** Acknowledge after the task finished (true), when it starts (false), or as {@code task_acks_late} says. */
    Toggle acksLate() default Toggle.DEFAULT;

    /** Exceptions that make the task retry by itself (Celery's {@code autoretry_for}). Empty: {@code task_autoretry_for}. */
    Class<? extends Throwable>[] autoretryFor() default {};

    /** Exceptions that never trigger an automatic retry. Empty: {@code task_dont_autoretry_for}. */
    Class<? extends Throwable>[] dontAutoretryFor() default {};

    /** Back-off base in seconds (1: 1 s, 2 s, 4 s, …); 0: no back-off; -1: {@code task_retry_backoff}. */
    double retryBackoff() default -1;

    /** Longest back-off in seconds; -1: {@code task_retry_backoff_max}. */
    double retryBackoffMax() default -1;

    /** Randomise each back-off between 0 and its computed value; DEFAULT: {@code task_retry_jitter}. */
    Toggle retryJitter() default Toggle.DEFAULT;

    /** Soft time limit in seconds ({@code SoftTimeLimitExceeded} in the task); 0: none; -1: {@code task_soft_time_limit}. */
    double softTimeLimit() default -1;

    /** Hard time limit in seconds (the task is stopped, FAILURE {@code TimeLimitExceeded}); 0: none; -1: {@code task_time_limit}. */
    double timeLimit() default -1;

    /** A yes/no option that can also be left to the app-wide setting. */
    enum Toggle {
        DEFAULT, TRUE, FALSE;

        public Boolean value() {
            return this == DEFAULT ? null : this == TRUE;
        }
    }
}
