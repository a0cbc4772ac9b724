package io.celeriac;

/**
 * Thrown by {@link AsyncResult#get} when the task ended in FAILURE. Carries the remote exception
 * as Celery stores it: its type, module, message and the formatted traceback (a Python worker's
 * exceptions arrive the same way, e.g. type {@code ValueError}, module {@code builtins}).
 *
 * <pre>{@code
 * try {
 *     app.send("scrape", url).get(Duration.ofMinutes(2));
 * } catch (TaskFailedException e) {
 *     log.error("{} failed with {}: {}", e.taskId(), e.excType(), e.excMessage());
 *     log.error("remote traceback:\n{}", e.remoteTraceback());
 * }
 * }</pre>
 */
public class TaskFailedException extends CeleriacException {
    /** The id of the task that failed. */
    private final String taskId;
    /** The exception's simple type name. */
    private final String excType;
    /** Its package or Python module. */
    private final String excModule;
    /** Its message. */
    private final String excMessage;
    /** The traceback the worker stored. */
    private final String remoteTraceback;

    /**
     * A failure as read from the result store.
     *
     * @param taskId          the task's id
     * @param excType         the exception's simple type name
     * @param excModule       its package or Python module; may be null
     * @param excMessage      its message; may be null
     * @param remoteTraceback the traceback the worker stored; may be null
     */
    public TaskFailedException(String taskId, String excType, String excModule, String excMessage, String remoteTraceback) {
        super("task " + taskId + " failed: " + qualified(excModule, excType) + (excMessage == null || excMessage.isEmpty() ? "" : ": " + excMessage));
        this.taskId = taskId;
        this.excType = excType;
        this.excModule = excModule;
        this.excMessage = excMessage;
        this.remoteTraceback = remoteTraceback;
    }

    private static String qualified(String module, String type) {
        return module == null || module.isEmpty() || module.equals("builtins") ? type : module + "." + type;
    }

    /** @return the id of the task that failed */
    public String taskId() { return taskId; }

    /** @return the simple name of the exception type, e.g. {@code IllegalStateException} or {@code ValueError} */
    public String excType() { return excType; }

    /** @return the package (Java) or module (Python) of the exception type; may be null */
    public String excModule() { return excModule; }

    /** @return the exception's message; may be null */
    public String excMessage() { return excMessage; }

    /** @return the traceback as the worker formatted it; may be null */
    public String remoteTraceback() { return remoteTraceback; }
}
