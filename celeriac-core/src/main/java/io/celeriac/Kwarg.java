package io.celeriac;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Sends a parameter of a typed client's method as a keyword argument, under this name, instead of
 * by position (see {@link Celeriac#client(Class)}). A null value is left out of the kwargs, so the
 * task's own default applies (Python's, or null for an optional Java parameter).
 *
 * <p>On an interface a worker's task class implements, it also names the implementation's
 * parameter, which is then optional (unless primitive), as {@link Param} with {@code optional = true}.
 *
 * <pre>{@code
 * @Task(name = "scrape_all_sources")
 * Report scrape(@Kwarg("failure_rate") Double failureRate);      // scrape(null) sends kwargs {}
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.PARAMETER)
public @interface Kwarg {
    /**
     * The keyword, as the task's parameter is named (Python's name, for a Python task).
     *
     * @return the keyword
     */
    String value();
}
