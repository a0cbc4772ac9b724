package io.celeriac;

/** A message on a queue is not a Celery protocol v2 JSON task message; the reason says why. */
public class MalformedMessageException extends CeleriacException {
    public MalformedMessageException(String reason) {
        super(reason);
    }

    public MalformedMessageException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
