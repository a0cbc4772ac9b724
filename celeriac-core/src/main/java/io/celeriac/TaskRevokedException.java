package io.celeriac;

/**
 * Thrown by {@link AsyncResult#get} when the task was revoked ({@link Celeriac#revoke}) or expired
 * before it ran; the reason is "expired", "revoked" or "terminated".
 *
 * <pre>{@code
 * SendOptions o = SendOptions.options().withExpires(Duration.ofMinutes(5));
 * try {
 *     app.send("notify", List.of(user), Map.of(), o).get(Duration.ofMinutes(10));
 * } catch (TaskRevokedException e) {
 *     if (e.reason().equals("expired")) { ... }   // no worker got to it in time
 * }
 * }</pre>
 */
public class TaskRevokedException extends CeleriacException {
    /** The id of the revoked task. */
    private final String taskId;
    /** Why: "expired", "revoked" or "terminated". */
    private final String reason;

    /**
     * A revoked task.
     *
     * @param taskId the task's id
     * @param reason "expired", "revoked" or "terminated"
     */
    public TaskRevokedException(String taskId, String reason) {
        super("task " + taskId + " was revoked: " + reason);
        this.taskId = taskId;
        this.reason = reason;
    }

    /** @return the id of the revoked task */
    public String taskId() { return taskId; }

    /** @return "expired", "revoked" or "terminated" */
    public String reason() { return reason; }
}
