package io.celeriac.worker;

import io.celeriac.CeleriacException;

/** The worker cannot start: its pool cannot run anything (the process pool's children cannot start). One line, for the user. */
public final class WorkerStartException extends CeleriacException {
    public WorkerStartException(String message) {
        super(message);
    }
}
