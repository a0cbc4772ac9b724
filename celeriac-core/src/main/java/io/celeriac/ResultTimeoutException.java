package io.celeriac;

import java.time.Duration;

/**
 * No ready result arrived within the time {@link AsyncResult#get} was given; the task may still
 * finish later (the message says the state it was in). Celery's {@code TimeoutError}.
 */
public class ResultTimeoutException extends CeleriacException {
    /**
     * A wait that ran out.
     *
     * @param taskId    the task waited for
     * @param waited    how long
     * @param lastState the state seen last (PENDING when nothing was stored)
     */
    public ResultTimeoutException(String taskId, Duration waited, TaskState lastState) {
        super("task " + taskId + " is still " + lastState + " after waiting " + waited.toMillis() + " ms;"
                + " is a worker consuming its queue? (check with: celeriac worker)");
    }
}
