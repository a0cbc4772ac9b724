package io.celeriac;

import java.time.Duration;

/** No ready result arrived within the time {@link AsyncResult#get} was given. */
public class ResultTimeoutException extends CeleriacException {
    public ResultTimeoutException(String taskId, Duration waited, TaskState lastState) {
        super("task " + taskId + " is still " + lastState + " after waiting " + waited.toMillis() + " ms;"
                + " is a worker consuming its queue? (check with: celeriac worker)");
    }
}
