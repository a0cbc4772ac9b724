package io.celeriac;

/** No task is registered under the given name. Celery calls this {@code NotRegistered}. */
public class TaskNotRegisteredException extends CeleriacException {
    private final String taskName;

    public TaskNotRegisteredException(String taskName, String hint) {
        super("task '" + taskName + "' is not registered" + (hint == null || hint.isEmpty() ? "" : "; " + hint));
        this.taskName = taskName;
    }

    public String taskName() {
        return taskName;
    }

    @Override
    public boolean isUserError() {
        return true;
    }
}
