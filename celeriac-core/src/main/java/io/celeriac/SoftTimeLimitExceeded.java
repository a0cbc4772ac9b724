package io.celeriac;

/**
 * The task ran past its soft time limit. Raised inside the task by {@link TaskContext#checkpoint()}
 * and {@link TaskContext#sleep}, after the worker interrupted the task's thread; a task may catch it
 * to clean up and return. A task that lets it (or the interruption) escape is recorded as FAILURE
 * {@code SoftTimeLimitExceeded}.
 */
public class SoftTimeLimitExceeded extends CeleriacException {
    /**
     * The soft limit passed.
     *
     * @param message names the task and its limit
     */
    public SoftTimeLimitExceeded(String message) {
        super(message);
    }
}
