package io.celeriac.beat;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.zone.ZoneOffsetTransition;
import java.time.ZoneId;
import java.time.ZonedDateTime;

/**
 * A 5-field Unix cron expression in a time zone, evaluated by cron-utils
 * (com.cronutils:cron-utils): minutes, hours, day of month, month, day of week. Slots are wall-clock
 * times in the zone, so {@code 0 9 * * *} in Europe/Madrid is 09:00 local before and after a
 * daylight-saving change.
 *
 * <p>Daylight saving, as Vixie cron does it: a time that the spring change skips (02:30 on the
 * night clocks go from 02:00 to 03:00) fires once, at the change; a time that the autumn change
 * repeats fires once, at its first occurrence. cron-utils alone would skip the former, so those
 * slots are added here.
 */
final class CronSchedule implements Schedule {
    private static final CronParser PARSER = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

    private final String expression;
    private final ZoneId zone;
    private final ExecutionTime times;

    /** Throws {@link IllegalArgumentException} with the parser's reason for a malformed expression. */
    CronSchedule(String expression, ZoneId zone) {
        Cron cron = PARSER.parse(expression.trim());
        cron.validate();
        this.expression = expression.trim();
        this.zone = zone;
        this.times = ExecutionTime.forCron(cron);
    }

    @Override
    public Instant latestAtOrBefore(Instant t) {
        // cron slots are whole minutes; lastExecution is strictly before its argument
        ZonedDateTime probe = t.plusSeconds(1).atZone(zone);
        Instant last = times.lastExecution(probe).map(ZonedDateTime::toInstant).orElse(null);
        while (last != null && last.isAfter(t)) {
            last = times.lastExecution(last.atZone(zone)).map(ZonedDateTime::toInstant).orElse(null);
        }
        Instant gap = latestSkippedSlot(last == null ? t.minus(Duration.ofDays(366)) : last, t);
        return gap != null ? gap : last;
    }

    @Override
    public Instant nextAfter(Instant t) {
        Instant next = times.nextExecution(t.atZone(zone)).map(ZonedDateTime::toInstant)
                .orElseThrow(() -> new IllegalStateException("cron '" + expression + "' has no time after " + t));
        Instant gap = firstSkippedSlot(t, next);
        return gap != null ? gap : next;
    }

    /**
     * The first spring-forward change in (from, to] at which a slot of this schedule falls in the
     * skipped local hour: that slot fires at the change.
     */
    private Instant firstSkippedSlot(Instant from, Instant to) {
        ZoneOffsetTransition tr = zone.getRules().nextTransition(from);
        while (tr != null && !tr.getInstant().isAfter(to)) {
            if (tr.isGap() && matchesInGap(tr)) {
                return tr.getInstant();
            }
            tr = zone.getRules().nextTransition(tr.getInstant());
        }
        return null;
    }

    /** The latest such change in (from, to], or null. */
    private Instant latestSkippedSlot(Instant from, Instant to) {
        Instant found = null;
        ZoneOffsetTransition tr = zone.getRules().nextTransition(from);
        while (tr != null && !tr.getInstant().isAfter(to)) {
            if (tr.isGap() && matchesInGap(tr)) {
                found = tr.getInstant();
            }
            tr = zone.getRules().nextTransition(tr.getInstant());
        }
        return found;
    }

    /** Whether a local time that the change skips is one of this schedule's times. */
    private boolean matchesInGap(ZoneOffsetTransition tr) {
        // Local times in the gap do not exist in the zone; at the offset before the change they do,
        // with the same wall-clock fields, which is all a cron expression looks at.
        for (LocalDateTime local = tr.getDateTimeBefore(); local.isBefore(tr.getDateTimeAfter()); local = local.plusMinutes(1)) {
            if (times.isMatch(local.atZone(tr.getOffsetBefore()))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String describe() {
        return "cron " + expression + " (" + zone.getId() + ")";
    }
}
