package io.celeriac.worker;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.spi.Broker;
import io.celeriac.spi.ResultStore;
import java.time.Duration;
import java.util.UUID;

/**
 * The checks {@code celeriac health} and a worker's {@code /health/ready} share: the broker and the
 * result store answer, and a worker is making progress.
 */
public final class HealthChecks {
    private HealthChecks() {
    }

    /**
     * Asks the broker something cheap (the length of the default queue); throws when it does not answer.
     *
     * @param broker the broker
     * @param config the settings ({@code task_default_queue})
     */
    public static void broker(Broker broker, Config config) {
        broker.size(config.get(Settings.TASK_DEFAULT_QUEUE));
    }

    /**
     * Asks the result store for a result that does not exist; throws when it does not answer.
     *
     * @param results the result store
     */
    public static void resultStore(ResultStore results) {
        results.get("celeriac-health-" + UUID.randomUUID());
    }

    /**
     * Seconds since a worker last made progress, that is polled the broker for work or finished a
     * task (its heartbeat's {@code last_poll} and {@code last_task_done}, epoch seconds; 0 for never).
     *
     * @param lastPoll when it last polled the broker, epoch seconds
     * @param lastDone when it last finished a task, epoch seconds
     * @param now      now, epoch seconds
     * @return seconds without progress
     */
    public static double secondsWithoutProgress(double lastPoll, double lastDone, double now) {
        return now - Math.max(lastPoll, lastDone);
    }

    /**
     * The progress rule: a worker without progress for longer than {@code worker_liveness_timeout}
     * is not making progress, even if its process exists and answers.
     *
     * @param secondsWithoutProgress {@link #secondsWithoutProgress}
     * @param liveness               {@code worker_liveness_timeout}
     * @return true when it is making progress
     */
    public static boolean makingProgress(double secondsWithoutProgress, Duration liveness) {
        return secondsWithoutProgress <= liveness.toSeconds();
    }
}
