package io.celeriac;

/**
 * The broker or result store failed. {@link #recoverable()} tells callers whether retrying the
 * same operation later can succeed (a connection that dropped) or not (a database file that
 * cannot be opened), the way kombu transports declare their recoverable errors. A client's send retries a recoverable
 * one for up to {@code broker_publish_retry_timeout} before it throws.
 *
 * <pre>{@code
 * try {
 *     app.send("add", 1, 2);
 * } catch (BrokerException e) {
 *     log.warn("not sent ({}): {}", e.recoverable() ? "try again later" : "check the broker URL", e.getMessage());
 * }
 * }</pre>
 */
public class BrokerException extends CeleriacException {
    /** Whether the same operation may succeed later. */
    private final boolean recoverable;

    /**
     * A broker failure.
     *
     * @param message     what failed, naming the broker
     * @param recoverable whether the same operation may succeed later
     * @param cause       the driver's exception, or null
     */
    public BrokerException(String message, boolean recoverable, Throwable cause) {
        super(message, cause);
        this.recoverable = recoverable;
    }

    /** @return true when retrying the same operation later can succeed (a dropped connection) */
    public boolean recoverable() {
        return recoverable;
    }
}
