package io.celeriac;

/** Thrown by {@link AsyncResult#get} when the task was revoked; the reason is "expired", "revoked" or "terminated". */
public class TaskRevokedException extends CeleriacException {
    private final String taskId;
    private final String reason;

    public TaskRevokedException(String taskId, String reason) {
        super("task " + taskId + " was revoked: " + reason);
        this.taskId = taskId;
        this.reason = reason;
    }

    public String taskId() { return taskId; }

    public String reason() { return reason; }
}
