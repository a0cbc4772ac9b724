package io.celeriac;

/**
 * A message on a queue is not a Celery protocol v2 JSON task message; the reason says why. When
 * the message's id could still be read, {@link #taskId()} has it, and {@link #excType()} /
 * {@link #excModule()} name the exception its sender's FAILURE result carries, as Celery and
 * kombu name it ({@code ContentDisallowed}, {@code DecodeError}, {@code LimitExceeded}, …).
 */
public class MalformedMessageException extends CeleriacException {
    private final String taskId;
    private final String task;
    private final String excType;
    private final String excModule;

    public MalformedMessageException(String reason) {
        this(reason, null, null, null, null);
    }

    public MalformedMessageException(String reason, Throwable cause) {
        super(reason, cause);
        this.taskId = null;
        this.task = null;
        this.excType = null;
        this.excModule = null;
    }

    /** A malformed message whose id (and maybe task name) could be read; its FAILURE is {@code excModule.excType: reason}. */
    public MalformedMessageException(String reason, String taskId, String task, String excType, String excModule) {
        super(reason);
        this.taskId = taskId;
        this.task = task;
        this.excType = excType;
        this.excModule = excModule;
    }

    /** The id from the message's headers, or null when it could not be read. */
    public String taskId() {
        return taskId;
    }

    /** The task name from the message's headers, or null. */
    public String task() {
        return task;
    }

    /** The exception type of the FAILURE to store under {@link #taskId()} (e.g. {@code DecodeError}). */
    public String excType() {
        return excType == null ? "InvalidTaskError" : excType;
    }

    /** Its module (e.g. {@code kombu.exceptions}). */
    public String excModule() {
        return excType == null ? "celery.exceptions" : excModule;
    }
}
