package io.celeriac;

/** The args/kwargs of a call do not fit the task's parameters (Celery raises TypeError here). */
public class ArgumentBindingException extends CeleriacException {
    /**
     * Arguments that do not fit.
     *
     * @param message which argument is missing, extra or of the wrong type
     */
    public ArgumentBindingException(String message) {
        super(message);
    }

    @Override
    public boolean isUserError() {
        return true;
    }
}
