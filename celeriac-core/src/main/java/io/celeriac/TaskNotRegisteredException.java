package io.celeriac;

/**
 * No task is registered under the given name. Celery calls this {@code NotRegistered}. Thrown by
 * {@link TaskRegistry#require}; a worker that receives an unknown task stores FAILURE
 * {@code NotRegistered} and dead-letters the message instead.
 *
 * <pre>{@code
 * registry.require("ad");   // task 'ad' is not registered; did you mean 'add'?
 * }</pre>
 */
public class TaskNotRegisteredException extends CeleriacException {
    /** The name that is not registered. */
    private final String taskName;

    /**
     * An unknown task name.
     *
     * @param taskName the name asked for
     * @param hint     what to do (the nearest name, or the registered ones); may be null
     */
    public TaskNotRegisteredException(String taskName, String hint) {
        super("task '" + taskName + "' is not registered" + (hint == null || hint.isEmpty() ? "" : "; " + hint));
        this.taskName = taskName;
    }

    /** @return the name that is not registered */
    public String taskName() {
        return taskName;
    }

    @Override
    public boolean isUserError() {
        return true;
    }
}
