package io.celeriac.worker;

import io.celeriac.TaskDefinition;
import io.celeriac.config.Config;
import io.celeriac.config.Durations;
import io.celeriac.config.Settings;
import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.protocol.TaskMessage;
import java.time.Duration;

/**
 * The time limits of one run: the call's {@code timelimit} header, else the task's options, else
 * {@code task_soft_time_limit}/{@code task_time_limit}. Zero means no limit.
 */
record TimeLimits(Duration soft, Duration hard) {

    static TimeLimits of(TaskMessage m, TaskDefinition task, Config c) {
        Duration soft = m.softTimeLimit() != null ? Durations.ofSeconds(m.softTimeLimit())
                : task.options().softTimeLimit() != null ? task.options().softTimeLimit() : c.get(Settings.TASK_SOFT_TIME_LIMIT);
        Duration hard = m.hardTimeLimit() != null ? Durations.ofSeconds(m.hardTimeLimit())
                : task.options().timeLimit() != null ? task.options().timeLimit() : c.get(Settings.TASK_TIME_LIMIT);
        if (!hard.isZero() && !soft.isZero() && soft.compareTo(hard) >= 0) {
            soft = Duration.ZERO; // the hard limit comes first: a soft one after it could never fire
        }
        return new TimeLimits(soft.isNegative() ? Duration.ZERO : soft, hard.isNegative() ? Duration.ZERO : hard);
    }

    /** What Celery records at a hard limit ({@code billiard.exceptions.TimeLimitExceeded}). */
    static ExceptionInfo exceeded(RequestContext ctx, Duration hard) {
        return ExceptionInfo.of("TimeLimitExceeded", "billiard.exceptions",
                "task " + ctx.taskName() + "[" + ctx.id() + "] ran past its hard time limit of " + Durations.format(hard));
    }
}
