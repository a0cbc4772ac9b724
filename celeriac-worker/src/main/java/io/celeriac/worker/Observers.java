package io.celeriac.worker;

import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.Delivery;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's observers, told in order. What an observer throws is logged once (per observer) and
 * swallowed, so that no observer can slow or break a run.
 */
final class Observers implements TaskObserver {
    private static final Logger log = LoggerFactory.getLogger("celeriac.worker");

    private final List<TaskObserver> all = new CopyOnWriteArrayList<>();
    private final Set<TaskObserver> complained = ConcurrentHashMap.newKeySet();

    void add(TaskObserver o) {
        all.add(o);
    }

    /** Puts {@code next} where {@code previous} was (or at the end). */
    void replace(TaskObserver previous, TaskObserver next) {
        synchronized (all) {
            int i = all.indexOf(previous);
            if (i >= 0) {
                all.set(i, next);
            } else {
                all.add(next);
            }
        }
    }

    private void each(Consumer<TaskObserver> call) {
        for (TaskObserver o : all) {
            try {
                call.accept(o);
            } catch (RuntimeException | LinkageError e) {
                if (complained.add(o)) {
                    log.warn("task observer {} failed ({}); its failures are ignored from now on", o.getClass().getName(), e.toString(), e);
                } else if (log.isDebugEnabled()) {
                    log.debug("task observer {} failed again: {}", o.getClass().getName(), e.toString());
                }
            }
        }
    }

    @Override
    public void received(Delivery delivery, TaskMessage message, Instant at) {
        each(o -> o.received(delivery, message, at));
    }

    @Override
    public void started(TaskMessage message, String queue, Instant at) {
        each(o -> o.started(message, queue, at));
    }

    @Override
    public void finished(Finished f) {
        each(o -> o.finished(f));
    }

    @Override
    public void pool(PoolEvent event, long pid) {
        each(o -> o.pool(event, pid));
    }
}
