package io.celeriac.worker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.Json;
import io.celeriac.spi.Broker;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every {@code worker_heartbeat_interval}: renews the leases of the messages this worker holds and
 * records its heartbeat, in Celery's {@code worker-heartbeat} event shape plus what {@code health}
 * needs (last poll, last task done). The loop survives any error: a missed beat is logged, not fatal.
 */
final class Heartbeat implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);

    private final Broker broker;
    /** Where the heartbeat is recorded (presence). */
    private final io.celeriac.spi.Coordination coordination;
    private final WorkerOptions options;
    private final WorkerStats stats;
    private final WorkerPool pool;
    private final List<String> registered;
    private final Runnable onBeat;
    private final ScheduledExecutorService timer;
    private final AtomicLong clock = new AtomicLong();

    /** Worker events (online, heartbeat, offline); {@link TaskEvents#OFF} while events are off (enable_events turns them on). */
    private final java.util.function.Supplier<TaskEvents> events;
    /** Told of each renewal that succeeded (the buffered messages' leases run on from its start). */
    private final Leases leases;

    /** The messages reserved ahead and not started (for the data-loss line's counts). */
    private final java.util.function.Supplier<List<io.celeriac.spi.Delivery>> buffered;
    /** The broker lost its data (see {@link Broker#dataLoss()}): in every heartbeat from then on, for health. Sticky. */
    private volatile ObjectNode dataLost;
    /** Slots now (pool_grow, pool_shrink and autoscale change it). */
    private final java.util.function.IntSupplier concurrency;

    Heartbeat(Broker broker, io.celeriac.spi.Coordination coordination, WorkerOptions options, WorkerStats stats, WorkerPool pool, List<String> registered, Runnable onBeat,
              java.util.function.Supplier<TaskEvents> events, Leases leases,
              java.util.function.Supplier<List<io.celeriac.spi.Delivery>> buffered,
              java.util.function.IntSupplier concurrency) {
        this.buffered = buffered;
        this.concurrency = concurrency;
        this.events = events;
        this.leases = leases;
        this.broker = broker;
        this.coordination = coordination;
        this.options = options;
        this.stats = stats;
        this.pool = pool;
        this.registered = registered;
        this.onBeat = onBeat;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "celeriac-heartbeat");
            t.setDaemon(true);
            return t;
        });
    }

    void start() {
        long ms = options.heartbeatInterval().toMillis();
        beat("worker-online");
        timer.scheduleAtFixedRate(() -> beat("worker-heartbeat"), ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Celery's {@code heartbeat} control command: a beat now, outside the schedule. */
    void beatNow() {
        timer.execute(() -> beat("worker-heartbeat"));
    }

    /** This worker's Lamport clock (Celery's {@code clock}), as last advanced. */
    long clock() {
        return clock.get();
    }

    private void beat(String type) {
        try {
            onBeat.run();
            ObjectNode beat = state(type); // one state per beat: recorded, and sent as the event
            long renewing = leases.now();
            broker.renew();
            leases.renewed(renewing, leases.now());
            if (dataLost == null && broker.dataLoss() != null) {
                dataLost(broker.dataLoss());
                beat = state(type); // health sees it in this beat
            }
            coordination.keepAlive(options.nodeName(), Json.write(beat));
            events.get().send(beat);
            BrokerOutage.of(broker).ok("heartbeat");
        } catch (Throwable t) {
            // leases are not renewed meanwhile: a long outage may redeliver what this worker holds
            BrokerOutage.of(broker).failed("heartbeat", t);
        }
    }

    /**
     * The broker's server lost its data: said once, as an ERROR with what this worker held, and kept
     * in its heartbeat ({@code broker_data_lost}) so that {@code celeriac health} fails until it restarts.
     */
    private void dataLost(Broker.DataLoss loss) {
        java.util.Set<String> bufferedTags = new java.util.HashSet<>();
        buffered.get().forEach(d -> bufferedTags.add(d.tag()));
        long inBuffer = loss.tags().stream().filter(bufferedTags::contains).count();
        long running = loss.tags().size() - inBuffer;
        String message = loss.message() + ": " + running + " message(s) this worker held in flight and " + inBuffer
                + " buffered lost their broker records (it still runs them, but nothing redelivers them if it dies);"
                + " every task waiting in the queues or parked for an ETA, and every stored result, is gone: tasks sent before"
                + " the restart are lost unless the server persists (appendonly yes)";
        ObjectNode o = Json.NODES.objectNode();
        o.put("at", loss.at().toEpochMilli() / 1000.0);
        o.put("message", message);
        o.put("in_flight", running);
        o.put("buffered", inBuffer);
        dataLost = o;
        LoggerFactory.getLogger("celeriac.worker").error("{}; celeriac health fails for this worker until it is restarted", message);
    }

    /** The worker's state, in the event shape of {@code type} (worker-heartbeat, stats, …). */
    ObjectNode state(String type) {
        ObjectNode o = Json.NODES.objectNode();
        o.put("hostname", options.nodeName());
        o.put("utcoffset", 0);
        o.put("pid", ProcessHandle.current().pid());
        o.put("clock", clock.incrementAndGet());
        o.put("freq", options.heartbeatInterval().toMillis() / 1000.0);
        o.put("active", stats.active());
        o.put("processed", stats.received());
        o.set("loadavg", loadAverage());
        o.put("sw_ident", "celeriac");
        o.put("sw_ver", Worker.VERSION);
        o.put("sw_sys", System.getProperty("os.name"));
        o.put("timestamp", System.currentTimeMillis() / 1000.0);
        o.put("type", type);
        // Celeriac's own fields, for status and health:
        o.put("pool_description", pool.describe());
        o.set("pool_stats", Json.toTree(pool.stats()));
        o.put("concurrency", concurrency.getAsInt());
        o.set("queues", Json.toTree(options.queues()));
        o.set("registered", Json.toTree(registered));
        o.put("succeeded", stats.succeeded());
        o.put("failed", stats.failed());
        o.put("retried", stats.retried());
        o.put("revoked", stats.revoked());
        o.put("dead_lettered", stats.deadLettered());
        o.put("last_poll", stats.lastPollMillis() / 1000.0);
        o.put("last_task_done", stats.lastTaskDoneMillis() / 1000.0);
        if (dataLost != null) {
            o.set("broker_data_lost", dataLost);
        }
        return o;
    }

    /** The 1, 5 and 15 minute load averages, as Celery reports them (Linux: /proc/loadavg). */
    private static com.fasterxml.jackson.databind.node.ArrayNode loadAverage() {
        var out = Json.NODES.arrayNode();
        try {
            String[] f = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim().split("\\s+");
            for (int i = 0; i < 3; i++) {
                out.add(Double.parseDouble(f[i]));
            }
        } catch (Exception notLinux) {
            double one = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            out.removeAll();
            out.add(one).add(one).add(one); // only the 1-minute figure is available here
        }
        return out;
    }

    /** Stops beating and records that the node went offline. */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
            events.get().send(state("worker-offline"));
            coordination.keepAlive(options.nodeName(), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.warn("heartbeat: could not record going offline: {}", e.getMessage());
        }
        try {
            broker.leave();
        } catch (RuntimeException e) {
            log.warn("heartbeat: could not leave the broker's queues: {}", e.getMessage());
        }
    }
}
