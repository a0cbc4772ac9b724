package io.celeriac.spring;

import io.celeriac.Celeriac;
import io.celeriac.config.Settings;
import io.celeriac.fleet.FleetChecks;
import io.celeriac.worker.HealthChecks;
import io.celeriac.worker.Worker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What Actuator's {@code celeriac} health says, whichever Boot's health API reports it: the broker
 * and the result store answer (the probes of {@code celeriac health}, {@link FleetChecks}) and, with
 * the embedded worker, that worker runs and made progress within {@code worker_liveness_timeout}
 * (polled the broker or finished a task: {@link HealthChecks#makingProgress}).
 */
final class CeleriacChecks {
    private final Celeriac app;
    private final EmbeddedWorker worker;

    /** One look: whether all passed, and each check's outcome as a detail. */
    record Outcome(boolean up, Map<String, String> details) {
    }

    CeleriacChecks(Celeriac app, EmbeddedWorker worker) {
        this.app = app;
        this.worker = worker;
    }

    Outcome check() {
        List<FleetChecks.Result> checks = new ArrayList<>();
        checks.add(FleetChecks.broker(app));
        checks.add(FleetChecks.resultStore(app));
        if (worker != null) {
            checks.add(progress(worker.worker()));
        }
        Map<String, String> details = new LinkedHashMap<>();
        for (FleetChecks.Result r : checks) {
            details.put(r.check(), (r.ok() ? "ok: " : "failing: ") + r.detail());
        }
        return new Outcome(checks.stream().allMatch(FleetChecks.Result::ok), details);
    }

    private FleetChecks.Result progress(Worker w) {
        if (w.failure().isPresent()) {
            return new FleetChecks.Result("worker", false, w.nodeName() + " stopped: " + w.failure().get(), 0);
        }
        if (!worker.isRunning()) {
            return new FleetChecks.Result("worker", false, w.nodeName() + " is not running", 0);
        }
        Duration liveness = app.config().get(Settings.WORKER_LIVENESS_TIMEOUT);
        double age = w.stats().secondsWithoutProgress();
        return HealthChecks.makingProgress(age, liveness)
                ? new FleetChecks.Result("worker", true, String.format("%s polled the broker or finished a task %.1f s ago",
                w.nodeName(), age), 0)
                : new FleetChecks.Result("worker", false, String.format("%s made no progress for %.0f s (worker_liveness_timeout"
                + " %d s)", w.nodeName(), age, liveness.toSeconds()), 0);
    }
}
