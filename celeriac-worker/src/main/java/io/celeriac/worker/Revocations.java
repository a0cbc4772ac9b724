package io.celeriac.worker;

import io.celeriac.spi.Broker;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.Revocation;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * What this worker knows of revoked task ids, kept fresh from the coordination store: before a task starts
 * (at most every {@link #FRESH_NANOS}) and with every heartbeat. New revocations with terminate are
 * handed to {@code onTerminate}, which stops the run if it is here.
 */
final class Revocations {
    /** A revoke older than this is certainly seen before a task starts. */
    static final long FRESH_NANOS = 20_000_000;
    /** Clocks of the processes sharing a broker may differ a little: read back this far. */
    private static final long OVERLAP_MS = 5_000;

    private final Broker broker;
    private final Coordination coordination;
    private final Consumer<Revocation> onTerminate;
    private final Map<String, Revocation> known = new ConcurrentHashMap<>();
    private Instant cursor = Instant.EPOCH;
    private volatile long refreshedAt = Long.MIN_VALUE;

    /**
     * @param coordination where revocations are recorded
     * @param broker       whose outage log a failure to read them goes to
     * @param onTerminate  told of each new revocation with terminate
     */
    Revocations(Coordination coordination, Broker broker, Consumer<Revocation> onTerminate) {
        this.coordination = coordination;
        this.broker = broker;
        this.onTerminate = onTerminate;
    }

    /** Whether {@code taskId} is revoked; refreshes first unless that was done moments ago. */
    boolean isRevoked(String taskId) {
        if (System.nanoTime() - refreshedAt > FRESH_NANOS) {
            refresh();
        }
        return known.containsKey(taskId);
    }

    /** Every task id known to be revoked, sorted. */
    java.util.List<String> knownIds() {
        return known.keySet().stream().sorted().toList();
    }

    /** Whether {@code taskId} is known to be revoked with terminate (no refresh). */
    boolean knownTerminate(String taskId) {
        Revocation r = known.get(taskId);
        return r != null && r.terminate();
    }

    synchronized void refresh() {
        List<Revocation> fresh;
        try {
            fresh = coordination.revocations(cursor.minusMillis(OVERLAP_MS));
        } catch (RuntimeException e) {
            BrokerOutage.of(broker).failed(null, "read revocations", e); // read when a task starts: may not come again soon
            refreshedAt = System.nanoTime(); // not again at once: a task start must not wait on a broker that is down
            return;
        }
        refreshedAt = System.nanoTime();
        for (Revocation r : fresh) {
            Revocation old = known.put(r.taskId(), r);
            if (r.at().isAfter(cursor)) {
                cursor = r.at();
            }
            if (r.terminate() && (old == null || !old.terminate())) {
                onTerminate.accept(r);
            }
        }
        if (known.size() > 100_000) { // bound memory: keep what the broker still holds
            known.keySet().retainAll(coordination.revocations(Instant.EPOCH).stream().map(Revocation::taskId).toList());
        }
    }
}
