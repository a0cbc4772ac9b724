package io.celeriac;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an interface whose {@link Task} methods a client calls through {@link Celeriac#client(Class)}
 * (optional: any interface whose abstract methods all carry {@code @Task} will do), and holds its options.
 *
 * <pre>{@code
 * @TaskClient(resultTimeout = 120)
 * public interface Facts {
 *     @Task(name = "scrape_all_sources") Report scrape(@Kwarg("failure_rate") Double failureRate);
 *     @Task(name = "scrape_all_sources") TypedResult<Report> scrapeAsync(@Kwarg("failure_rate") Double failureRate);
 *     @Task(name = "add") long add(long x, long y);
 * }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface TaskClient {
    /**
     * How long, in seconds, a method that returns the task's value waits for it. -1: {@code result_timeout}.
     *
     * @return the wait in seconds, or -1
     */
    double resultTimeout() default -1;
}
