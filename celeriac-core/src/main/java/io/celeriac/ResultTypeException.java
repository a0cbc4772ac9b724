package io.celeriac;

/**
 * A task's stored result does not convert to the type a typed client expects of it
 * ({@link TaskRef}, {@link TypedResult}, {@link Celeriac#client(Class)}): the task returns
 * something else than the client declares. The message names the task, its id and the type.
 */
public class ResultTypeException extends CeleriacException {
    /**
     * A result of the wrong shape.
     *
     * @param message what was expected and what came, naming the task
     * @param cause   Jackson's exception, or null
     */
    public ResultTypeException(String message, Throwable cause) {
        super(message, cause);
    }

    /** @return true: the client's declared type and the task disagree, which the user fixes */
    @Override
    public boolean isUserError() {
        return true;
    }
}
