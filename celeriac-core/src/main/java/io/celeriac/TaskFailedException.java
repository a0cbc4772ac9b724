package io.celeriac;

/**
 * Thrown by {@link AsyncResult#get} when the task ended in FAILURE. Carries the remote exception
 * as Celery stores it: its type, module, message and the formatted traceback.
 */
public class TaskFailedException extends CeleriacException {
    private final String taskId;
    private final String excType;
    private final String excModule;
    private final String excMessage;
    private final String remoteTraceback;

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

    public String taskId() { return taskId; }

    /** Simple name of the exception type, e.g. {@code IllegalStateException} or {@code ValueError}. */
    public String excType() { return excType; }

    /** Package (Java) or module (Python) of the exception type. */
    public String excModule() { return excModule; }

    public String excMessage() { return excMessage; }

    /** The traceback as the worker formatted it; may be null. */
    public String remoteTraceback() { return remoteTraceback; }
}
