package io.celeriac;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names a task parameter for keyword arguments (needed when the code is not compiled with
 * {@code -parameters}), and can make it optional: a caller may leave it out and the task gets null.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.PARAMETER)
public @interface Param {
    String value();

    /** May be left out by the caller; the task then receives null (so the type must not be primitive). */
    boolean optional() default false;
}
