package io.celeriac;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names a task parameter for keyword arguments (needed when the code is not compiled with
 * {@code -parameters}), and can make it optional: a caller may leave it out and the task gets null.
 *
 * <pre>{@code
 * @Task(name = "resize")
 * public String resize(@Param("path") String path, @Param(value = "width", optional = true) Integer width) { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.PARAMETER)
public @interface Param {
    /**
     * The parameter's name, as callers give it in kwargs.
     *
     * @return the name
     */
    String value();

    /**
     * May be left out by the caller; the task then receives null (so the type must not be primitive).
     *
     * @return true when optional
     */
    boolean optional() default false;
}
