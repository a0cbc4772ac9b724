package io.celeriac.beat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Coordination;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler: each {@link #tick()} takes or renews the leader lock, fires what is due (only the
 * leader does), and returns how long to wait before the next tick. Time comes from the injected
 * {@link Clock}, so schedules are tested by moving a clock, not by sleeping.
 *
 * <p>Exactly once per slot: a firing is the message and the record "entry X fired slot S" written
 * together, and only while this process holds the lock ({@link Coordination#publishIfHolder}).
 * A restarted or new leader reads the records and goes on from there.
 *
 * <p>Late and missed slots: a slot that came due more than twice {@code beat_lock_timeout} before
 * the tick that sees it was missed (no beat was running, or the machine slept); it is fired once or
 * skipped as the entry's {@code catch_up} says. (A failover takes at most the lease and a tenth, so
 * a slot that came due while the leader was dying is late, not missed: a standby fires it.) Either way, a backlog of many slots of one entry
 * fires at most once.
 */
public final class Beat {
    private static final Logger log = LoggerFactory.getLogger("celeriac.beat");
    /** The leader lock every beat competes for (its holder is the leader: {@code NODE/uuid}). */
    public static final String LOCK = "celeriac.beat.leader";
    static final String LAST = "celeriac.beat.last.";
    /** The longest gap between a beat's heartbeats; with a short lease they are more frequent (a fifth of it). */
    static final Duration HEARTBEAT = Duration.ofSeconds(2);

    private final List<ScheduleEntry> entries;
    private final Broker broker;
    private final Coordination coordination;
    private final Clock clock;
    private final Duration lease;
    private final Duration heartbeatEvery;
    private final String node;
    private final String owner;
    private final String defaultQueue;
    /** task_routes: where an entry without a queue of its own goes, before task_default_queue (as Celery's send_task). */
    private final io.celeriac.config.TaskRoutes routes;
    private final Map<String, Instant> last = new HashMap<>();
    private boolean leader;
    private long fired;
    private Instant lastBeat = Instant.EPOCH;

    public Beat(Config config, Broker broker, Coordination coordination, Clock clock, String node) {
        this(BeatSchedule.parse(config), config, broker, coordination, clock, node);
    }

    Beat(List<ScheduleEntry> entries, Config config, Broker broker, Coordination coordination, Clock clock, String node) {
        this.entries = entries;
        this.broker = broker;
        this.coordination = coordination;
        this.clock = clock;
        this.lease = config.get(Settings.BEAT_LOCK_TIMEOUT);
        this.heartbeatEvery = min(HEARTBEAT, lease.dividedBy(5));
        this.node = node;
        this.owner = node + "/" + UUID.randomUUID();
        this.defaultQueue = config.get(Settings.TASK_DEFAULT_QUEUE);
        this.routes = io.celeriac.config.TaskRoutes.of(config);
    }

    /** The entry's queue, else its task's route, else task_default_queue. */
    private String queueOf(ScheduleEntry e) {
        if (e.queue() != null) {
            return e.queue();
        }
        String routed = routes.queue(e.task());
        return routed != null ? routed : defaultQueue;
    }

    /** Checks every entry (also on construction: a bad schedule fails here, not at its first slot). */
    public static void validate(Config config) {
        BeatSchedule.parse(config);
    }

    public boolean isLeader() {
        return leader;
    }

    public long fired() {
        return fired;
    }

    /** One round; returns how long to wait before the next. Never throws: a failing broker is logged and retried. */
    public Duration tick() {
        Instant now = clock.instant();
        try {
            boolean wasLeader = leader;
            leader = coordination.tryLock(LOCK, owner, lease);
            if (leader && !wasLeader) {
                log.info("{}: leader now; {} entries", node, entries.size());
                last.clear(); // another leader may have fired since we last looked
            } else if (!leader && wasLeader) {
                log.warn("{}: lost the leader lock; another beat sends from now on", node);
            }
            heartbeat(now);
            if (!leader) {
                return bounded(lease.dividedBy(10));
            }
            // wake at least every heartbeat and every third of the lease (to renew the lock in time)
            Instant soonest = now.plus(min(lease.dividedBy(3), heartbeatEvery));
            for (ScheduleEntry e : entries) {
                Instant next = run(e, now);
                if (next.isBefore(soonest)) {
                    soonest = next;
                }
                if (!leader) {
                    return bounded(lease.dividedBy(10));
                }
            }
            return bounded(Duration.between(clock.instant(), soonest));
        } catch (RuntimeException e) {
            log.error("{}: {}; trying again", node, e.getMessage());
            return Duration.ofSeconds(1);
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static Duration bounded(Duration d) {
        return d.isNegative() || d.isZero() ? Duration.ofMillis(1) : d;
    }

    /** Fires the entry if a slot is due; returns when it is next due. */
    private Instant run(ScheduleEntry e, Instant now) {
        Instant lastFired = last.computeIfAbsent(e.name(), n -> coordination.get(LAST + n).map(CeleryTime::parse).orElse(null));
        Instant due = e.schedule().latestAtOrBefore(now);
        if (due == null) {
            return e.schedule().nextAfter(now);
        }
        if (lastFired == null) {
            // a new entry starts with its next slot (as Celery's beat waits one interval)
            record(e, due, null, "new entry " + e.name() + " (" + e.schedule().describe() + "): first run at "
                    + e.schedule().nextAfter(now));
        } else if (due.isAfter(lastFired)) {
            boolean missed = Duration.between(due, now).compareTo(lease.multipliedBy(2)) > 0;
            Instant earlier = e.schedule().nextAfter(lastFired);
            String backlog = earlier.isBefore(due) ? " (slots from " + earlier + " on were missed too; fired once)" : "";
            if (missed && e.catchUp().equals("skip")) {
                record(e, due, null, "entry " + e.name() + ": missed slot " + due + " skipped (catch_up: skip)" + backlog);
            } else {
                record(e, due, message(e, due, now), missed
                        ? "entry " + e.name() + ": missed slot " + due + " fired now (catch_up: once)" + backlog
                        : null);
            }
        }
        return e.schedule().nextAfter(now);
    }

    private void record(ScheduleEntry e, Instant slot, TaskMessage m, String why) {
        String queue = queueOf(e);
        BrokerMessage bm = m == null ? null : new BrokerMessage(m.id(), MessageCodec.encode(m), m.priority(), null);
        if (!coordination.publishIfHolder(LOCK, owner, broker, queue, bm, LAST + e.name(), CeleryTime.format(slot))) {
            leader = false;
            return;
        }
        last.put(e.name(), slot);
        if (why != null) {
            log.info("{}: {}", node, why);
        }
        if (m != null) {
            fired++;
            log.info("{}: sending due task {} ({}) for {} [{}]", node, e.name(), e.task(), slot, m.id());
        }
    }

    private TaskMessage message(ScheduleEntry e, Instant slot, Instant now) {
        // One id per entry and slot: a duplicate, if one ever slipped through, would be the same task.
        String id = UUID.nameUUIDFromBytes((e.name() + "|" + slot).getBytes(StandardCharsets.UTF_8)).toString();
        TaskMessage.Builder b = TaskMessage.builder(e.task()).id(id)
                .args((ArrayNode) Json.toTree(e.args())).kwargs((ObjectNode) Json.toTree(e.kwargs()))
                .queue(queueOf(e))
                .header("beat_entry", Json.NODES.textNode(e.name()))
                .header("beat_slot", Json.NODES.textNode(CeleryTime.format(slot)));
        if (e.priority() != null) {
            b.priority(e.priority());
        }
        if (e.expires() != null) {
            b.expires(slot.plus(e.expires()));
        }
        return b.build();
    }

    private void heartbeat(Instant now) {
        // a little early rather than a whole tick late: ticks fall on slots, which may come just before it is due
        if (Duration.between(lastBeat, now).compareTo(heartbeatEvery.multipliedBy(4).dividedBy(5)) < 0) {
            return;
        }
        lastBeat = now;
        ObjectNode o = Json.NODES.objectNode();
        o.put("hostname", node);
        o.put("type", "beat-heartbeat");
        o.put("pid", ProcessHandle.current().pid());
        o.put("leader", leader);
        o.put("entries", entries.size());
        o.put("fired", fired);
        // what `celeriac health` judges this beat by: a leader silent for half its lease is down or stuck
        o.put("lease", lease.toMillis() / 1000.0);
        o.put("freq", heartbeatEvery.toMillis() / 1000.0);
        o.put("timestamp", now.toEpochMilli() / 1000.0);
        try {
            coordination.keepAlive(node, Json.write(o));
        } catch (RuntimeException e) {
            log.warn("{}: cannot record heartbeat: {}", node, e.getMessage());
        }
    }

    /** Leaves the lock to another beat at once (a clean stop) and goes offline. */
    public void stop() {
        try {
            coordination.unlock(LOCK, owner);
            coordination.keepAlive(node, null);
        } catch (RuntimeException e) {
            log.warn("{}: could not release the leader lock ({}); another beat takes over when it expires", node, e.getMessage());
        }
        leader = false;
    }

    /**
     * One schedule entry as {@code celeriac beat --list} and the dashboard show it.
     *
     * @param name     the entry's name in {@code beat_schedule}
     * @param schedule the schedule, described (e.g. {@code every 300s}, {@code cron 0 * * * *})
     * @param task     the task it sends
     * @param next     its next slot after now
     * @param lastRun  the record of its last slot fired (by any beat), or null when it never fired
     */
    public record EntryStatus(String name, String schedule, String task, Instant next, String lastRun) {
    }

    /** The schedule with each entry's last and next run (read from the shared records, not this beat's memory). */
    public List<EntryStatus> entries() {
        Instant now = clock.instant();
        return entries.stream().map(e -> new EntryStatus(e.name(), e.schedule().describe(), e.task(),
                e.schedule().nextAfter(now), coordination.get(LAST + e.name()).orElse(null))).toList();
    }

    /** The schedule with each entry's last and next run, for {@code celeriac beat --list}. */
    public List<String> describe() {
        return entries().stream().map(e -> String.format("%-28s %-36s %-22s next %s   last %s", e.name(), e.schedule(), e.task(),
                CeleryTime.format(e.next()), e.lastRun() == null ? "never" : e.lastRun())).toList();
    }
}
