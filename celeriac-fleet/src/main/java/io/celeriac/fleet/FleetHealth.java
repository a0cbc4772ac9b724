package io.celeriac.fleet;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Celeriac;
import io.celeriac.config.Settings;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The fleet's liveness and readiness, for {@code /health/live} and {@code /health/ready} (Kubernetes
 * probes): ready when the broker, the result store and the coordination store answer and at least one worker is making
 * progress, with the checks {@code celeriac health} runs ({@link FleetChecks}). A result is kept for
 * {@link #CACHE} so a probe every few seconds, from several probers, costs one look at the broker.
 */
public final class FleetHealth {
    /** How long one outcome of the checks is served before they are run again. */
    public static final Duration CACHE = Duration.ofSeconds(1);

    private final Celeriac app;
    private final LongSupplier nanoTime;
    private final Instant started = Instant.now();
    private Readiness last;
    private long lastAt;

    /**
     * The health of the fleet {@code app} reaches.
     *
     * @param app an open client (its broker, result store and coordination); not closed here
     */
    public FleetHealth(Celeriac app) {
        this(app, System::nanoTime);
    }

    FleetHealth(Celeriac app, LongSupplier nanoTime) {
        this.app = app;
        this.nanoTime = nanoTime;
    }

    /**
     * The readiness outcome.
     *
     * @param ready whether every check passed
     * @param checks each check's outcome, in the order run
     * @param nodes the nodes seen, or null when the broker could not be read
     * @param at when the checks ran
     */
    public record Readiness(boolean ready, List<FleetChecks.Result> checks, FleetChecks.Nodes nodes, Instant at) {
        /**
         * The outcome as JSON, in the shape of a worker's own {@code /health/ready}: {@code status}
         * ("ready" or "unready"), {@code failing} (the failing checks' names, comma-separated; only when
         * some fail), and {@code checks.NAME} with {@code ok}, {@code detail} and {@code latency_ms}.
         *
         * @return the JSON document
         */
        public ObjectNode json() {
            ObjectNode o = Json.NODES.objectNode();
            o.put("status", ready ? "ready" : "unready");
            List<String> failing = checks.stream().filter(r -> !r.ok()).map(FleetChecks.Result::check).toList();
            if (!failing.isEmpty()) {
                o.put("failing", String.join(", ", failing));
            }
            o.put("checked_at", CeleryTime.format(at));
            ObjectNode cs = o.putObject("checks");
            for (FleetChecks.Result r : checks) {
                ObjectNode c = cs.putObject(r.check());
                c.put("ok", r.ok());
                c.put("detail", r.detail());
                if (r.latencyMs() >= 0) {
                    c.put("latency_ms", Math.round(r.latencyMs() * 100) / 100.0);
                }
            }
            return o;
        }

        /**
         * The outcome of one check.
         *
         * @param name the check's name
         * @return it, or null when it was not run (the broker was down)
         */
        public FleetChecks.Result check(String name) {
            return checks.stream().filter(c -> c.check().equals(name)).findFirst().orElse(null);
        }
    }

    /**
     * Liveness: this process answers. It looks at nothing else (a broker outage must not get the
     * dashboard restarted).
     *
     * @return {@code {"status": "live", "started_at": …}}
     */
    public ObjectNode live() {
        ObjectNode o = Json.NODES.objectNode();
        o.put("status", "live");
        o.put("started_at", CeleryTime.format(started));
        return o;
    }

    /**
     * Readiness: the broker, the result store and the coordination store answer and at least one worker is making progress
     * ({@code worker_liveness_timeout}). Run at most once per {@link #CACHE}; callers at the same
     * time wait for the one run.
     *
     * @return the outcome
     */
    public synchronized Readiness ready() {
        long now = nanoTime.getAsLong();
        if (last != null && now - lastAt < CACHE.toNanos()) {
            return last;
        }
        last = check();
        lastAt = nanoTime.getAsLong();
        return last;
    }

    private Readiness check() {
        List<FleetChecks.Result> checks = new ArrayList<>();
        FleetChecks.Result broker = FleetChecks.broker(app);
        checks.add(broker);
        checks.add(FleetChecks.resultStore(app));
        FleetChecks.Result coordination = FleetChecks.coordination(app).orElse(null);
        if (coordination != null) {
            checks.add(coordination);
        }
        FleetChecks.Nodes nodes = null;
        if (coordination != null && !coordination.ok()) {
            checks.add(new FleetChecks.Result("workers", false, "not checked: the coordination store does not answer", -1));
        } else if (broker.ok()) {
            try {
                nodes = FleetChecks.Nodes.read(app);
                checks.add(FleetChecks.anyWorkerProgressing(nodes, app.config().get(Settings.WORKER_LIVENESS_TIMEOUT)));
            } catch (RuntimeException e) {
                checks.add(new FleetChecks.Result("workers", false, "could not read the workers' heartbeats: "
                        + FleetChecks.oneLine(e.getMessage()), -1));
            }
        } else {
            checks.add(new FleetChecks.Result("workers", false, "not checked: the broker does not answer", -1));
        }
        return new Readiness(checks.stream().allMatch(FleetChecks.Result::ok), List.copyOf(checks), nodes, Instant.now());
    }
}
