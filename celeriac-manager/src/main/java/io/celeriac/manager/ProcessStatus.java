package io.celeriac.manager;

import java.time.Duration;
import java.time.Instant;

/** What {@code celeriac status} shows of one process. Pid and uptime are null when it is not running. */
public record ProcessStatus(String process, String program, String kind, ProcessState state, Long pid, Duration uptime,
                            int restarts, String lastExit, Instant since) {
}
