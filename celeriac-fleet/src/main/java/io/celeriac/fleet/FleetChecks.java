package io.celeriac.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.Celeriac;
import io.celeriac.config.Secrets;
import io.celeriac.config.Settings;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import io.celeriac.spi.Backends;
import io.celeriac.spi.NodeBeat;
import io.celeriac.worker.HealthChecks;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The checks of the whole fleet, seen from the broker and the coordination store, written once for
 * {@code celeriac health}, {@code /health/ready} and {@code /metrics}: whether the broker, the
 * result store and (when it is a store of its own) the coordination store answer, which workers and beats have sent heartbeats, whether a worker is making
 * progress, whether the beat leader is alive, and the last run of the built-in
 * {@code celeriac.health_check}.
 */
public final class FleetChecks {
    /** A node not heard from for this long has gone away; it is listed nowhere. */
    public static final Duration FORGOTTEN = Duration.ofMinutes(10);
    /** Where the built-in {@code celeriac.health_check} records its last outcome (coordination record). */
    public static final String HEALTH_CHECK_RECORD = "celeriac.health_check.last";
    /** The coordination lock the beat leader holds. */
    public static final String BEAT_LEADER_LOCK = "celeriac.beat.leader";

    private FleetChecks() {
    }

    /**
     * One check's outcome.
     *
     * @param check the check's name (broker, result_backend, workers, worker NODE, beat, health_check)
     * @param ok whether it passed
     * @param detail one line: what was seen, or why it failed
     * @param latencyMs how long the probe took, or a negative number when nothing was timed
     */
    public record Result(String check, boolean ok, String detail, double latencyMs) {
        static Result ok(String check, String detail) {
            return new Result(check, true, detail, -1);
        }

        static Result fail(String check, String detail) {
            return new Result(check, false, detail, -1);
        }
    }

    /**
     * Runs {@code probe}, timing it: passes when it returns, fails with the exception's first line.
     *
     * @param check the check's name
     * @param target what is probed (a redacted URL)
     * @param probe the probe
     * @return the outcome, its detail {@code "TARGET answered in N ms"} or {@code "TARGET: ERROR"}
     *         (the error alone when it names the target first)
     */
    public static Result timed(String check, String target, Runnable probe) {
        long t0 = System.nanoTime();
        try {
            probe.run();
            double ms = (System.nanoTime() - t0) / 1e6;
            return new Result(check, true, target + " answered in " + String.format("%.1f", ms) + " ms", ms);
        } catch (RuntimeException e) {
            String said = oneLine(e.getMessage());
            return new Result(check, false, said.startsWith(target) ? said : target + ": " + said, // the URL once
                    (System.nanoTime() - t0) / 1e6);
        }
    }

    /**
     * The broker answers: the length of the default queue is read.
     *
     * @param app the open client
     * @return the outcome, named {@code broker}
     */
    public static Result broker(Celeriac app) {
        return timed("broker", app.broker().describe(), () -> HealthChecks.broker(app.broker(), app.config()));
    }

    /**
     * The result store answers: a result that does not exist is read.
     *
     * @param app the open client
     * @return the outcome, named {@code result_backend}
     */
    public static Result resultStore(Celeriac app) {
        return timed("result_backend", app.results().describe(), () -> HealthChecks.resultStore(app.results()));
    }

    /**
     * The coordination store answers (the beat leader's lock is read), checked on its own only when
     * {@code coordination_url} names a store that is neither the broker's nor the result backend's
     * (those are checked already).
     *
     * @param app the open client
     * @return the outcome, named {@code coordination}; empty when it is the broker's or the result backend's store
     */
    public static Optional<Result> coordination(Celeriac app) {
        String url = Backends.coordinationUrl(app.config());
        if (url.equals(app.config().get(Settings.BROKER_URL)) || url.equals(Backends.resultUrl(app.config()))) {
            return Optional.empty();
        }
        return Optional.of(timed("coordination", Secrets.redact(url), () -> app.coordination().holder(BEAT_LEADER_LOCK)));
    }

    /**
     * The workers and beats that sent a heartbeat in the last {@link #FORGOTTEN} minutes, by node name.
     *
     * @param workers each worker's last heartbeat
     * @param beats each beat's last heartbeat
     * @param nowMillis when they were read
     */
    public record Nodes(Map<String, Heartbeat> workers, Map<String, Heartbeat> beats, long nowMillis) {
        /**
         * Reads the nodes from the coordination store (one read of its presence records).
         *
         * @param app the open client
         * @return the workers and beats heard from recently; event listeners are left out
         */
        public static Nodes read(Celeriac app) {
            long now = System.currentTimeMillis();
            Map<String, Heartbeat> workers = new TreeMap<>();
            Map<String, Heartbeat> beats = new TreeMap<>();
            for (NodeBeat b : app.coordination().nodes().values()) {
                if (now - b.at().toEpochMilli() > FORGOTTEN.toMillis() || (!b.isWorker() && !b.isBeat())) {
                    continue; // gone long ago, or an event listener (celeriac events)
                }
                Heartbeat h = new Heartbeat(b.node(), json(b), b.at());
                (b.isBeat() ? beats : workers).put(b.node(), h);
            }
            return new Nodes(Collections.unmodifiableMap(workers), Collections.unmodifiableMap(beats), now);
        }
    }

    /**
     * A node's last heartbeat.
     *
     * @param node its name
     * @param state the heartbeat's JSON (Celery's worker-heartbeat fields and Celeriac's own)
     * @param at when the broker recorded it
     */
    public record Heartbeat(String node, JsonNode state, Instant at) {
        /**
         * Seconds since the broker recorded it.
         *
         * @param nowMillis now
         * @return its age in seconds
         */
        public double age(long nowMillis) {
            return (nowMillis - at.toEpochMilli()) / 1000.0;
        }

        /**
         * Whether the node is up as Celery's event state judges a worker: its last heartbeat is no
         * older than twice its heartbeat interval ({@code freq}, 2 s when it gives none).
         *
         * @param nowMillis now
         * @return whether it is up
         */
        public boolean up(long nowMillis) {
            return age(nowMillis) <= 2 * state.path("freq").asDouble(2.0);
        }

        /**
         * Seconds since the worker last polled the broker or finished a task (its heartbeat's
         * {@code last_poll} and {@code last_task_done}).
         *
         * @param nowMillis now
         * @return the seconds it has gone without progress
         */
        public double secondsWithoutProgress(long nowMillis) {
            return HealthChecks.secondsWithoutProgress(state.path("last_poll").asDouble(), state.path("last_task_done").asDouble(),
                    nowMillis / 1000.0);
        }

        /**
         * The rule of {@code celeriac health}: a worker is making progress when it polled the broker or
         * finished a task within {@code worker_liveness_timeout}, not merely when its process exists.
         *
         * @param nowMillis now
         * @param liveness {@code worker_liveness_timeout}
         * @return whether it is making progress
         */
        public boolean makingProgress(long nowMillis, Duration liveness) {
            return HealthChecks.makingProgress(secondsWithoutProgress(nowMillis), liveness) && !lostData();
        }

        /**
         * Whether the worker saw its broker lose its data (sticky until the worker restarts).
         *
         * @return whether its heartbeat carries {@code broker_data_lost}
         */
        public boolean lostData() {
            return state.path("broker_data_lost").isObject();
        }
    }

    /**
     * One worker's check, as {@code celeriac health} prints it: it did not see its broker lose its
     * data, it answered a ping ({@code answered}; null when no ping was sent) and it is making progress.
     *
     * @param w the worker's heartbeat
     * @param nowMillis now
     * @param liveness {@code worker_liveness_timeout}
     * @param pingMs how long the ping took, for the detail
     * @param answered whether it answered the ping, or null when not pinged
     * @return the outcome, named {@code worker NODE}
     */
    public static Result worker(Heartbeat w, long nowMillis, Duration liveness, long pingMs, Boolean answered) {
        String check = "worker " + w.node();
        JsonNode lost = w.state().path("broker_data_lost");
        if (lost.isObject()) { // sticky until the worker restarts: what was lost stays lost
            return Result.fail(check, lost.path("message").asText() + String.format(" (seen %.0f s ago; fails until this worker is restarted)",
                    (nowMillis / 1000.0) - lost.path("at").asDouble()));
        }
        if (Boolean.FALSE.equals(answered)) {
            return Result.fail(check, "no answer to a ping through the broker within 2 s");
        }
        double progress = w.secondsWithoutProgress(nowMillis);
        if (!HealthChecks.makingProgress(progress, liveness)) {
            return Result.fail(check, String.format("answers, but made no progress for %.0f s (worker_liveness_timeout %d s):"
                    + " it neither polled the broker nor finished a task", progress, liveness.toSeconds()));
        }
        JsonNode s = w.state();
        return Result.ok(check, String.format("%spolled the broker %.1f s ago; %d running, %d done",
                answered == null ? "" : "answered a ping (" + pingMs + " ms); ",
                (nowMillis / 1000.0) - s.path("last_poll").asDouble(), s.path("active").asInt(),
                s.path("succeeded").asLong() + s.path("failed").asLong()));
    }

    /**
     * At least one worker is making progress (the readiness rule), judged from heartbeats alone.
     *
     * @param nodes the nodes
     * @param liveness {@code worker_liveness_timeout}
     * @return the outcome, named {@code workers}
     */
    public static Result anyWorkerProgressing(Nodes nodes, Duration liveness) {
        if (nodes.workers().isEmpty()) {
            return Result.fail("workers", "no worker has sent a heartbeat in the last " + FORGOTTEN.toMinutes() + " minutes");
        }
        List<String> progressing = new ArrayList<>();
        List<String> stuck = new ArrayList<>();
        for (Heartbeat w : nodes.workers().values()) {
            (w.makingProgress(nodes.nowMillis(), liveness) ? progressing : stuck).add(w.node());
        }
        if (progressing.isEmpty()) {
            return Result.fail("workers", "no worker is making progress (none polled the broker or finished a task in the last "
                    + liveness.toSeconds() + " s): " + String.join(", ", stuck));
        }
        return Result.ok("workers", progressing.size() + " making progress (" + String.join(", ", progressing) + ")"
                + (stuck.isEmpty() ? "" : "; not: " + String.join(", ", stuck)));
    }

    /**
     * The beat check. The leader is judged by its heartbeat, not by its lock alone: a leader killed
     * with {@code kill -9} still holds the lock until its lease runs out, but it stops sending
     * heartbeats, and one silent for half its lease (a leader sends one every fifth of it) is down or stuck.
     *
     * @param app the open client
     * @param nodes the nodes
     * @param expectBeat whether a beat should run (the manager runs one)
     * @return the outcome, named {@code beat}; empty when no beat runs and none is expected
     */
    public static Optional<Result> beat(Celeriac app, Nodes nodes, boolean expectBeat) {
        Optional<String> holder = app.coordination().holder(BEAT_LEADER_LOCK);
        Duration configured = app.config().get(Settings.BEAT_LOCK_TIMEOUT);
        long now = nodes.nowMillis();
        Map<String, Heartbeat> beats = nodes.beats();
        List<String> alive = beats.values().stream().filter(b -> b.age(now) <= silentAfter(b, configured)).map(Heartbeat::node).toList();
        if (holder.isPresent()) {
            String leader = holder.get().replaceAll("/.*", "");
            Heartbeat hb = beats.get(leader);
            if (hb == null || hb.age(now) > silentAfter(hb, configured)) {
                return Optional.of(Result.fail("beat", "leader " + leader + (hb == null ? " has sent no heartbeat"
                        : String.format(" has sent no heartbeat for %.1f s", hb.age(now)))
                        + " but still holds the leader lock: it is down or stuck; "
                        + (alive.isEmpty() ? "no other beat is running to take over"
                        : "a standby (" + String.join(", ", alive) + ") takes over when its lease runs out")));
            }
            List<String> standby = alive.stream().filter(n -> !n.equals(leader)).toList();
            return Optional.of(Result.ok("beat", String.format("leader %s, heartbeat %.1f s ago", leader, hb.age(now))
                    + (standby.isEmpty() ? "" : "; standby " + String.join(", ", standby))));
        }
        if (!alive.isEmpty()) {
            return Optional.of(Result.ok("beat", "no leader this instant; " + String.join(", ", alive) + " running, one takes the lock at its next look"));
        }
        if (expectBeat || !beats.isEmpty()) {
            Optional<Heartbeat> last = beats.values().stream().filter(b -> b.state().path("leader").asBoolean())
                    .max(Comparator.comparing(Heartbeat::at));
            return Optional.of(Result.fail("beat", "no beat is running: " + last.map(b -> String.format(
                    "the last leader, %s, has sent no heartbeat for %.1f s", b.node(), b.age(now)))
                    .orElse("no beat has sent a heartbeat in the last " + FORGOTTEN.toMinutes() + " minutes")));
        }
        return Optional.empty();
    }

    /**
     * The live beat leader: the holder of the leader lock, when that beat's heartbeat is fresh.
     *
     * @param app the open client
     * @param nodes the nodes
     * @return the leader's node name, or empty when there is no live leader
     */
    public static Optional<String> liveBeatLeader(Celeriac app, Nodes nodes) {
        Duration configured = app.config().get(Settings.BEAT_LOCK_TIMEOUT);
        return app.coordination().holder(BEAT_LEADER_LOCK).map(h -> h.replaceAll("/.*", ""))
                .filter(l -> nodes.beats().containsKey(l)
                        && nodes.beats().get(l).age(nodes.nowMillis()) <= silentAfter(nodes.beats().get(l), configured));
    }

    /** How long a beat may go without a heartbeat before it is down: half its lease, at least two intervals. */
    static double silentAfter(Heartbeat b, Duration configured) {
        double lease = b.state().path("lease").asDouble(configured.toMillis() / 1000.0);
        double freq = b.state().path("freq").asDouble(2.0);
        return Math.max(lease / 2, 2 * freq);
    }

    /**
     * The last run of the built-in {@code celeriac.health_check}: when, whether it passed, and each
     * check's result and latency ({@code checks.NAME.ok}, {@code .latency_ms}, {@code .error}).
     *
     * @param app the open client
     * @return the record the task wrote, or empty when it has not run
     */
    public static Optional<JsonNode> lastHealthCheckRecord(Celeriac app) {
        return app.coordination().get(HEALTH_CHECK_RECORD).map(FleetChecks::readOrEmpty);
    }

    /**
     * The check of the last built-in health check: it passed, and it is not overdue.
     *
     * @param app the open client
     * @return the outcome, named {@code health_check}
     */
    public static Result lastHealthCheck(Celeriac app) {
        Duration interval = app.config().get(Settings.HEALTH_CHECK_INTERVAL);
        Optional<JsonNode> rec = lastHealthCheckRecord(app);
        if (rec.isEmpty()) {
            return Result.ok("health_check", interval.isZero() ? "off (health_check_interval is 0)" : "has not run yet");
        }
        JsonNode r = rec.get();
        Instant at = CeleryTime.parse(r.get("checked_at").asText());
        long age = Duration.between(at, Instant.now()).toSeconds();
        if (!r.path("healthy").asBoolean()) {
            List<String> bad = new ArrayList<>();
            r.path("checks").fields().forEachRemaining(e -> {
                if (!e.getValue().path("ok").asBoolean()) {
                    bad.add(e.getKey() + " (" + e.getValue().path("error").asText() + ")");
                }
            });
            return Result.fail("health_check", "the last run, " + age + " s ago, failed: " + String.join(", ", bad));
        }
        if (!interval.isZero() && age > interval.multipliedBy(2).plusMinutes(1).toSeconds()) {
            return Result.fail("health_check", "the last run was " + age + " s ago (due every " + interval.toSeconds() + " s): is beat running?");
        }
        return Result.ok("health_check", "the last run, " + age + " s ago, passed");
    }

    /**
     * The broker's URL as shown to people (passwords masked).
     *
     * @param app the open client
     * @return the redacted URL
     */
    public static String brokerUrl(Celeriac app) {
        return Secrets.redact(app.config().get(Settings.BROKER_URL));
    }

    /**
     * An error message on one line, passwords masked.
     *
     * @param message the message, or null
     * @return one line ("" for null)
     */
    public static String oneLine(String message) {
        return message == null ? "" : Secrets.redact(message.replace('\n', ' ').replace('\r', ' '));
    }

    private static JsonNode json(NodeBeat b) {
        return readOrEmpty(b.json());
    }

    private static JsonNode readOrEmpty(String json) {
        try {
            return Json.read(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return Json.NODES.objectNode(); // not written by this version: judged by the defaults
        }
    }
}
