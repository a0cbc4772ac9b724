package io.celeriac;

/**
 * The broker could not write because its storage is full (the SQLite file's disk, PostgreSQL's
 * {@code disk_full}). Recoverable — a worker waits it out, keeping what it holds — but not by
 * waiting a few seconds: a client's send fails at once with this, rather than retrying for
 * {@code broker_publish_retry_timeout}.
 */
public class StorageFullException extends BrokerException {
    /**
     * A write refused for lack of space.
     *
     * @param message what could not be written, and where
     * @param cause   the driver's exception
     */
    public StorageFullException(String message, Throwable cause) {
        super(message, true, cause);
    }
}
