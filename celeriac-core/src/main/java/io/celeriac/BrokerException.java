package io.celeriac;

/**
 * The broker or result store failed. {@link #recoverable()} tells callers whether retrying the
 * same operation later can succeed (a connection that dropped) or not (a database file that
 * cannot be opened), the way kombu transports declare their recoverable errors.
 */
public class BrokerException extends CeleriacException {
    private final boolean recoverable;

    public BrokerException(String message, boolean recoverable, Throwable cause) {
        super(message, cause);
        this.recoverable = recoverable;
    }

    public boolean recoverable() {
        return recoverable;
    }
}
