package io.celeriac;

/**
 * Root of every exception Celeriac throws. Unchecked, like the rest of the tree.
 *
 * <pre>
 * CeleriacException
 * ├── ConfigException              a setting, config file or URL is wrong (user error)
 * ├── TaskNotRegisteredException   no task of that name in the registry (user error)
 * ├── ArgumentBindingException     args/kwargs do not fit the task's parameters (user error)
 * ├── MalformedMessageException    a message that is not Celery protocol v2 JSON
 * ├── BrokerException              the broker or result store failed or is unreachable
 * ├── TaskFailedException          (client) the task ended in FAILURE
 * ├── TaskRevokedException         (client) the task was revoked or expired
 * ├── ResultTimeoutException       (client) no result within the wait
 * ├── ResultTypeException          (typed client) the result is not of the declared type (user error)
 * └── Retry                        (task → worker) run this task again later
 * </pre>
 *
 * Every message names the thing it is about (task, queue, setting, file) and, where it can,
 * says what to do about it.
 *
 * <pre>{@code
 * try {
 *     app.send("report", day).get(Duration.ofMinutes(1));
 * } catch (CeleriacException e) {
 *     if (e.isUserError()) { ... }   // bad input: show e.getMessage() as it is
 *     else throw e;
 * }
 * }</pre>
 */
public class CeleriacException extends RuntimeException {
    /**
     * An exception with a message.
     *
     * @param message what went wrong, naming what it is about
     */
    public CeleriacException(String message) {
        super(message);
    }

    /**
     * An exception with a message and a cause.
     *
     * @param message what went wrong, naming what it is about
     * @param cause   the underlying exception
     */
    public CeleriacException(String message, Throwable cause) {
        super(message, cause);
    }

    /** @return true when the cause is something the user can fix (bad input), not a fault in the system */
    public boolean isUserError() {
        return false;
    }
}
