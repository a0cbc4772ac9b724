package io.celeriac.worker;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Celeriac;
import io.celeriac.Retry;
import io.celeriac.RetryPolicy;
import io.celeriac.SoftTimeLimitExceeded;
import io.celeriac.TaskContext;
import io.celeriac.TaskState;
import io.celeriac.config.Durations;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.protocol.TaskResult;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@link TaskContext} of one run of one message. */
final class RequestContext implements TaskContext {
    private final TaskMessage message;
    private final String hostname;
    private final RetryPolicy policy;
    private final Clock clock;
    private final Supplier<Celeriac> app;
    private volatile Duration softLimit = Duration.ZERO;
    private volatile boolean softLimitFired;
    private volatile boolean terminated;
    private String rawPayload;
    private String queue;
    private int deliveryCount = 1;
    private volatile java.time.Instant startedAt;
    private java.util.function.Consumer<TaskResult> states;
    private boolean trackStarted;

    RequestContext(TaskMessage message, String hostname, RetryPolicy policy, Clock clock, Supplier<Celeriac> app) {
        this.message = message;
        this.hostname = hostname;
        this.policy = policy;
        this.clock = clock;
        this.app = app;
    }

    TaskMessage message() {
        return message;
    }

    /** When its run started here (null before). */
    java.time.Instant startedAt() {
        return startedAt;
    }

    void markStarted(java.time.Instant at) {
        this.startedAt = at;
    }

    /** The envelope as the broker delivered it, when this request came from a delivery (null otherwise). */
    String rawPayload() {
        return rawPayload;
    }

    /** The queue its message came from (null when it did not come from a delivery). */
    String queue() {
        return queue;
    }

    RequestContext from(io.celeriac.spi.Delivery d) {
        this.rawPayload = d.payload();
        this.queue = d.queue();
        this.deliveryCount = d.deliveryCount();
        return this;
    }

    /**
     * Where {@link #updateState} and STARTED go: the result store (through the worker's retries) in
     * the worker, a frame to the parent in a process-pool child.
     */
    RequestContext states(java.util.function.Consumer<TaskResult> sink, boolean trackStarted) {
        this.states = sink;
        this.trackStarted = trackStarted;
        return this;
    }

    /** Whether STARTED is stored as the run begins ({@code trackStarted}, {@code task_track_started}). */
    boolean trackStarted() {
        return trackStarted;
    }

    /** Stores a state of this task that is not its outcome (STARTED, progress). */
    void store(TaskResult r) {
        if (states == null) {
            throw new UnsupportedOperationException("task states cannot be stored from here");
        }
        states.accept(r);
    }

    @Override
    public void updateState(String state, java.util.Map<String, ?> meta) {
        TaskState s = TaskState.parse(state);
        if (s == TaskState.PENDING || s.ready()) {
            throw new IllegalArgumentException("updateState: state must be a custom state or one that is not final, got '"
                    + state + "' (the worker stores SUCCESS, FAILURE and REVOKED when the task returns or throws)");
        }
        com.fasterxml.jackson.databind.JsonNode json;
        try {
            json = Json.toTree(meta);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("updateState: meta cannot be written as JSON: " + e.getMessage(), e);
        }
        store(new TaskResult(message.id(), s, json, null, null, null));
    }

    /** Sets the delivery count (a child learns it from its parent). */
    RequestContext deliveries(int count) {
        this.deliveryCount = Math.max(1, count);
        return this;
    }

    int deliveryCount() {
        return deliveryCount;
    }

    @Override
    public boolean redelivered() {
        return deliveryCount > 1;
    }

    RetryPolicy policy() {
        return policy;
    }

    Clock clock() {
        return clock;
    }

    void softLimit(Duration limit) {
        this.softLimit = limit;
    }

    /** Called by the soft-limit timer just before it interrupts the task's thread. */
    void markSoftLimitFired() {
        softLimitFired = true;
    }

    /** Revoked with terminate while running: the outcome is REVOKED "terminated", whatever the task did. */
    void markTerminated() {
        terminated = true;
    }

    boolean terminated() {
        return terminated;
    }

    @Override
    public String id() {
        return message.id();
    }

    @Override
    public String taskName() {
        return message.task();
    }

    @Override
    public int retries() {
        return message.retries();
    }

    @Override
    public int maxRetries() {
        return policy.maxRetries();
    }

    @Override
    public ObjectNode headers() {
        return message.headers();
    }

    @Override
    public ArrayNode args() {
        return message.args();
    }

    @Override
    public ObjectNode kwargs() {
        return message.kwargs();
    }

    @Override
    public String hostname() {
        return hostname;
    }

    @Override
    public Logger logger() {
        return LoggerFactory.getLogger("celeriac.task." + message.task());
    }

    @Override
    public Retry retry(Throwable exc, Duration countdown) {
        if (countdown.isNegative()) {
            throw new IllegalArgumentException("retry countdown must not be negative");
        }
        return new Retry(exc, clock.instant().plus(countdown));
    }

    @Override
    public Retry retry(Throwable exc) {
        return retry(exc, policy.delay(message.retries(), ThreadLocalRandom.current()));
    }

    @Override
    public void checkpoint() {
        if (softLimitFired) {
            Thread.interrupted(); // the interruption has been turned into the exception
            throw exceeded();
        }
    }

    @Override
    public boolean softTimeLimitExceeded() {
        return softLimitFired;
    }

    @Override
    public void sleep(Duration duration) throws InterruptedException {
        checkpoint();
        try {
            Thread.sleep(duration.toMillis(), (int) (duration.toNanos() % 1_000_000));
        } catch (InterruptedException e) {
            checkpoint();
            throw e;
        }
    }

    SoftTimeLimitExceeded exceeded() {
        return new SoftTimeLimitExceeded("task " + message.task() + "[" + message.id() + "] ran past its soft time limit of "
                + Durations.format(softLimit));
    }

    @Override
    public Celeriac app() {
        return app.get();
    }
}
