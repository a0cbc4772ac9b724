package io.celeriac.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import com.rabbitmq.client.ShutdownSignalException;
import io.celeriac.BrokerException;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection to RabbitMQ with the client's automatic recovery: when it is lost, one log line
 * (not one per operation), reconnection with back-off (1 s doubling to 10 s), channels recovered by
 * the client; consumers and declarations are redone by their owners ({@link #onRecovery}). Every
 * failure of an operation is a recoverable {@link BrokerException} naming the server (no password).
 * Publishing waits for the server's confirm.
 */
final class RabbitConnection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("celeriac.broker");
    /** How long a publish waits for its confirm. */
    private static final long CONFIRM_TIMEOUT_MS = 30_000;

    /** An operation on a channel. */
    interface Op<T> {
        T run(Channel ch) throws IOException, InterruptedException, TimeoutException;
    }

    final AmqpUrl url;
    private final ConnectionFactory factory;
    private final List<Runnable> recoveries = new CopyOnWriteArrayList<>();
    private final AtomicBoolean down = new AtomicBoolean();
    private volatile boolean closed;
    private Connection connection;
    private Channel confirmed;
    private Channel plain;
    private Channel declaring;

    RabbitConnection(AmqpUrl url) {
        this.url = url;
        this.factory = url.factory();
        factory.setAutomaticRecoveryEnabled(true);
        factory.setTopologyRecoveryEnabled(false);
        factory.setRecoveryDelayHandler(attempt -> Math.min(10_000L, 1000L << Math.max(0, Math.min(4, attempt - 1))));
        factory.setConnectionTimeout(10_000);
        factory.setRequestedHeartbeat(30);
    }

    /** Runs {@code r} after every reconnection (re-declare, re-consume). */
    void onRecovery(Runnable r) {
        recoveries.add(r);
    }

    /** The connection, opened on first use (a server that is down now may be up at the next call). */
    synchronized Connection connection() {
        if (closed) {
            throw new BrokerException("RabbitMQ at " + url.describe() + ": closed", false, null);
        }
        if (connection == null) {
            try {
                connection = factory.newConnection("celeriac");
            } catch (IOException | TimeoutException e) {
                if (down.compareAndSet(false, true)) {
                    log.warn("cannot reach RabbitMQ at {}: {}; retrying", url.describe(), reason(e));
                }
                throw new BrokerException("RabbitMQ at " + url.describe() + " is unreachable: " + reason(e), true, e);
            }
            if (down.compareAndSet(true, false)) {
                log.info("connected to RabbitMQ at {}", url.describe());
            }
            connection.addShutdownListener(cause -> {
                if (!cause.isInitiatedByApplication() && down.compareAndSet(false, true)) {
                    log.warn("lost the connection to RabbitMQ at {}: {}; reconnecting with back-off", url.describe(), reason(cause));
                }
            });
            ((Recoverable) connection).addRecoveryListener(new RecoveryListener() {
                @Override
                public void handleRecovery(Recoverable r) {
                    if (down.compareAndSet(true, false)) {
                        log.info("reconnected to RabbitMQ at {}", url.describe());
                    }
                    recoveries.forEach(RabbitConnection::quietly);
                }

                @Override
                public void handleRecoveryStarted(Recoverable r) {
                }
            });
        }
        return connection;
    }

    private static void quietly(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.debug("after reconnecting: {}", e.toString());
        }
    }

    /** A new channel of its own (a consumer's). */
    Channel newChannel() {
        return call("open a channel", null, ch -> {
            Channel c = connection().createChannel();
            if (c == null) {
                throw new IOException("no channel available");
            }
            return c;
        });
    }

    /**
     * Runs {@code op} on {@code ch} (null: no channel), turning the client's failures into a
     * recoverable {@link BrokerException}.
     */
    <T> T call(String what, Channel ch, Op<T> op) {
        try {
            return op.run(ch);
        } catch (IOException | ShutdownSignalException | TimeoutException e) {
            throw new BrokerException("RabbitMQ at " + url.describe() + ": could not " + what + ": " + reason(e), true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BrokerException("RabbitMQ at " + url.describe() + ": interrupted while trying to " + what, true, e);
        }
    }

    /**
     * Publishes and, when {@code confirm}, waits for the server to confirm it took the message
     * (stored, for a persistent message on a durable queue).
     */
    void publish(String exchange, String routingKey, AMQP.BasicProperties props, byte[] body, boolean confirm) {
        String what = "publish to " + (exchange.isEmpty() ? "queue '" + routingKey + "'" : "exchange '" + exchange + "'");
        if (confirm) {
            synchronized (this) {
                call(what, null, ignored -> {
                    Channel ch = confirmedChannel();
                    ch.basicPublish(exchange, routingKey, false, props, body);
                    ch.waitForConfirmsOrDie(CONFIRM_TIMEOUT_MS);
                    return null;
                });
            }
        } else {
            synchronized (plainLock) {
                call(what, null, ignored -> {
                    plainChannel().basicPublish(exchange, routingKey, false, props, body);
                    return null;
                });
            }
        }
    }

    private final Object plainLock = new Object();
    private final Object declareLock = new Object();

    private Channel confirmedChannel() throws IOException {
        if (confirmed == null || !confirmed.isOpen()) {
            confirmed = connection().createChannel();
            confirmed.confirmSelect();
        }
        return confirmed;
    }

    private Channel plainChannel() throws IOException {
        if (plain == null || !plain.isOpen()) {
            plain = connection().createChannel();
        }
        return plain;
    }

    /**
     * Runs a declaration on the declaring channel. A refusal that closes the channel (406 when the
     * thing exists with other arguments, 404 for a passive declaration of nothing) is returned as
     * its reply code; the channel is opened anew for the next one.
     *
     * @return 0 when declared, else the server's reply code
     */
    int declare(String what, Op<?> op) {
        synchronized (declareLock) {
            return call(what, null, ignored -> {
                if (declaring == null || !declaring.isOpen()) {
                    declaring = connection().createChannel();
                }
                try {
                    op.run(declaring);
                    return 0;
                } catch (IOException e) {
                    if (e.getCause() instanceof ShutdownSignalException s && !s.isHardError()
                            && s.getReason() instanceof AMQP.Channel.Close close) {
                        return close.getReplyCode();
                    }
                    throw e;
                } catch (AlreadyClosedException e) {
                    if (e.getReason() != null && !e.isHardError() && e.getReason() instanceof AMQP.Channel.Close close) {
                        return close.getReplyCode();
                    }
                    throw e;
                }
            });
        }
    }

    /** Declares a queue; see {@link #declare}. */
    int declareQueue(String queue, boolean durable, boolean autoDelete, Map<String, Object> args) {
        return declare("declare queue '" + queue + "'", ch -> ch.queueDeclare(queue, durable, false, autoDelete, args));
    }

    /** One line for an exception from the client. */
    static String reason(Throwable e) {
        Throwable t = e;
        if (t instanceof IOException && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof ShutdownSignalException s) {
            Object r = s.getReason();
            if (r instanceof AMQP.Connection.Close c) {
                return c.getReplyCode() + " " + c.getReplyText();
            }
            if (r instanceof AMQP.Channel.Close c) {
                return c.getReplyCode() + " " + c.getReplyText();
            }
            return s.getCause() != null ? reason(s.getCause()) : "connection closed";
        }
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (connection != null) {
            try {
                connection.close(5_000);
            } catch (IOException | AlreadyClosedException e) {
                log.debug("closing the RabbitMQ connection: {}", e.toString());
            }
            connection = null;
        }
    }
}
