package io.celeriac.beat;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One entry of {@code beat_schedule}: a task sent on a schedule.
 *
 * @param name     the entry's name (its record of the last slot fired is kept under it)
 * @param task     the task name sent
 * @param catchUp  what to do with a slot missed while no beat ran: "once" or "skip"
 * @param queue    queue, or null for the task's default
 * @param priority priority, or null
 * @param expires  the sent task expires this long after the slot, or null
 */
record ScheduleEntry(String name, String task, Schedule schedule, List<Object> args, Map<String, Object> kwargs,
                     String catchUp, String queue, Integer priority, Duration expires) {
}
