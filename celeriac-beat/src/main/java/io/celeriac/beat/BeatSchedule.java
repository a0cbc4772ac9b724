package io.celeriac.beat;

import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.config.ValueType;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code beat_schedule} (Celery's shape) into entries, checking each one; a mistake is a
 * {@link ConfigException} naming the entry. The built-in {@code celeriac.health_check} entry is
 * added unless {@code health_check_interval} is 0 or an entry of that name is configured.
 *
 * <pre>
 * beat_schedule:
 *   scrape-every-5-minutes:
 *     task: scrape_all_sources
 *     schedule: 5m                 # or 300, or 300s
 *   six-hourly-report:
 *     task: report
 *     schedule: "0 *&#47;6 * * *"      # cron: minute hour day-of-month month day-of-week
 *     timezone: Europe/Madrid
 *     args: [1]
 *     kwargs: {full: true}
 *     options: {queue: reports, priority: 3, expires: 600}
 *     catch_up: skip               # or once (beat_catch_up)
 * </pre>
 */
final class BeatSchedule {
    static final String HEALTH_ENTRY = "celeriac.health_check";
    private static final Set<String> FIELDS = Set.of("task", "schedule", "args", "kwargs", "options", "timezone", "catch_up");
    private static final Set<String> OPTIONS = Set.of("queue", "priority", "expires");

    private BeatSchedule() {
    }

    static List<ScheduleEntry> parse(Config c) {
        Map<String, ScheduleEntry> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : c.get(Settings.BEAT_SCHEDULE).entrySet()) {
            out.put(e.getKey(), entry(e.getKey(), e.getValue(), c));
        }
        Duration health = c.get(Settings.HEALTH_CHECK_INTERVAL);
        if (!health.isZero() && !out.containsKey(HEALTH_ENTRY)) {
            out.put(HEALTH_ENTRY, new ScheduleEntry(HEALTH_ENTRY, HEALTH_ENTRY, new IntervalSchedule(health), List.of(), Map.of(),
                    c.get(Settings.BEAT_CATCH_UP), null, null, health));
        }
        return List.copyOf(out.values());
    }

    @SuppressWarnings("unchecked")
    private static ScheduleEntry entry(String name, Object raw, Config c) {
        if (!(raw instanceof Map<?, ?> m)) {
            throw bad(name, "must be a mapping with at least 'task' and 'schedule'");
        }
        for (Object k : m.keySet()) {
            if (!FIELDS.contains(String.valueOf(k))) {
                throw bad(name, "unknown field '" + k + "' (fields: task, schedule, args, kwargs, options, timezone, catch_up)");
            }
        }
        Object task = m.get("task");
        if (!(task instanceof String t) || t.isBlank()) {
            throw bad(name, "has no task name (task: the name of the task to send)");
        }
        ZoneId zone = c.get(Settings.TIMEZONE);
        if (m.get("timezone") != null) {
            try {
                zone = ZoneId.of(String.valueOf(m.get("timezone")).trim());
            } catch (DateTimeException ex) {
                throw bad(name, "unknown time zone '" + m.get("timezone") + "' (e.g. UTC, Europe/Madrid)");
            }
        }
        Schedule schedule = schedule(name, m.get("schedule"), zone);
        Object args = m.get("args");
        if (args != null && !(args instanceof List)) {
            throw bad(name, "args must be a list");
        }
        Object kwargs = m.get("kwargs");
        if (kwargs != null && !(kwargs instanceof Map)) {
            throw bad(name, "kwargs must be a mapping");
        }
        String catchUp = m.get("catch_up") == null ? c.get(Settings.BEAT_CATCH_UP) : String.valueOf(m.get("catch_up"));
        if (!catchUp.equals("once") && !catchUp.equals("skip")) {
            throw bad(name, "catch_up must be once or skip, not '" + catchUp + "'");
        }
        String queue = null;
        Integer priority = null;
        Duration expires = null;
        Object options = m.get("options");
        if (options != null) {
            if (!(options instanceof Map<?, ?> o)) {
                throw bad(name, "options must be a mapping");
            }
            for (Object k : o.keySet()) {
                if (!OPTIONS.contains(String.valueOf(k))) {
                    throw bad(name, "unknown option '" + k + "' (options: queue, priority, expires)");
                }
            }
            if (o.get("queue") != null) {
                queue = String.valueOf(o.get("queue"));
            }
            if (o.get("priority") != null) {
                priority = ValueType.integer(0, 9).parse("beat_schedule." + name + ".options.priority", o.get("priority"));
            }
            if (o.get("expires") != null) {
                expires = ValueType.duration(Duration.ofSeconds(1)).parse("beat_schedule." + name + ".options.expires", o.get("expires"));
            }
        }
        return new ScheduleEntry(name, (String) task, schedule, args == null ? List.of() : new ArrayList<>((List<Object>) args),
                kwargs == null ? Map.of() : new LinkedHashMap<>((Map<String, Object>) kwargs), catchUp, queue, priority, expires);
    }

    /** A number or a duration ("300", "5m") is an interval; five fields are a cron expression. */
    private static Schedule schedule(String name, Object raw, ZoneId zone) {
        if (raw == null) {
            throw bad(name, "has no schedule (an interval such as 300 or 5m, or a cron expression such as '0 */6 * * *')");
        }
        String text = String.valueOf(raw).trim();
        if ((raw instanceof Number n && n.doubleValue() <= 0) || text.startsWith("-")) {
            throw bad(name, "schedule must be a positive interval, not " + text);
        }
        if (raw instanceof Number || !text.contains(" ")) {
            Duration every;
            try {
                every = ValueType.duration(Duration.ZERO).parse("schedule", raw);
            } catch (ConfigException e) {
                throw bad(name, "schedule '" + text + "' is neither an interval (300, 30s, 5m) nor a cron expression");
            }
            if (every.isZero()) {
                throw bad(name, "schedule must be a positive interval, not " + text);
            }
            return new IntervalSchedule(every);
        }
        try {
            return new CronSchedule(text, zone);
        } catch (IllegalArgumentException e) {
            throw bad(name, "malformed cron expression '" + text + "': " + e.getMessage()
                    + " (5 fields: minute hour day-of-month month day-of-week)");
        }
    }

    private static ConfigException bad(String entry, String why) {
        return new ConfigException("beat_schedule entry '" + entry + "': " + why);
    }
}
