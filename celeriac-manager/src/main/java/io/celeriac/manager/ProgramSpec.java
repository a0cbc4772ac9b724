package io.celeriac.manager;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One program the manager supervises: how to start it, how many copies, and supervisord's
 * start/stop tunables.
 *
 * @param kind "worker", "beat", "dashboard" or "command" (shown in status, and how the command was made)
 */
public record ProgramSpec(String name, String kind, List<String> command, int count, Map<String, String> environment,
                          Duration startsecs, int startretries, Duration stopwaitsecs) {

    /** The names of its processes: the program's name, or name-1 … name-N when there are several. */
    public List<String> processNames() {
        if (count == 1) {
            return List.of(name);
        }
        return java.util.stream.IntStream.rangeClosed(1, count).mapToObj(i -> name + "-" + i).toList();
    }
}
