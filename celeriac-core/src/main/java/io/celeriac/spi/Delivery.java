package io.celeriac.spi;

/**
 * A message reserved by one consumer. Until it is acked or requeued it is leased to that consumer;
 * if the consumer stops renewing the lease ({@link Broker#renew}), the message is delivered again.
 *
 * @param queue         the queue it came from
 * @param payload       the envelope exactly as published
 * @param tag           broker-specific handle used to ack or requeue it
 * @param deliveryCount 1 on the first delivery, more when it was delivered before and not acked
 */
public record Delivery(String queue, String payload, String tag, int deliveryCount) {
    /** True when an earlier delivery of this message was not acknowledged (its consumer died or gave it back). */
    public boolean redelivered() {
        return deliveryCount > 1;
    }

    /** By tag and queue only: a delivery is a key of the worker's maps, and hashing its payload costs. Consistent with equals. */
    @Override
    public int hashCode() {
        return 31 * java.util.Objects.hashCode(queue) + java.util.Objects.hashCode(tag);
    }
}
