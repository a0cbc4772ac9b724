package io.celeriac.internal;

import io.celeriac.TaskContext;

/** The task running on the current thread. Set by the worker around each run; not for applications. */
public final class CurrentTask {
    private static final ThreadLocal<TaskContext> CURRENT = new ThreadLocal<>();

    private CurrentTask() {
    }

    public static TaskContext get() {
        return CURRENT.get();
    }

    public static void set(TaskContext context) {
        if (context == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(context);
        }
    }
}
