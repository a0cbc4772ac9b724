package io.celeriac;

/**
 * A task message whose arguments, or a result, are larger than {@code task_payload_max_bytes}
 * allows; the message names the task, the size and the limit. Thrown by the client at send, so
 * nothing is published (user error: send less, or raise the limit on clients and workers alike).
 */
public class MessageTooLargeException extends CeleriacException {
    /**
     * A payload over the limit.
     *
     * @param message names the task, the size and the limit
     */
    public MessageTooLargeException(String message) {
        super(message);
    }

    @Override
    public boolean isUserError() {
        return true;
    }
}
