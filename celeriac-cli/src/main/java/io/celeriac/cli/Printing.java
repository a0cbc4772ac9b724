package io.celeriac.cli;

import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.protocol.TaskResult;
import java.io.PrintWriter;

/** How commands show a task's stored state; returns the exit code that goes with it. */
final class Printing {
    private Printing() {
    }

    /** SUCCESS: the value as JSON, exit 0. FAILURE/REVOKED: the exception, exit 1. Not finished: the state, exit 1. */
    static int result(PrintWriter out, PrintWriter err, String id, TaskResult r, boolean traceback, boolean json) {
        if (r == null) {
            if (json) {
                out.println("{\"status\": \"PENDING\", \"task_id\": \"" + id + "\"}");
            } else {
                err.println("celeriac: task " + id + " is PENDING (no result stored yet: unknown id, not started, or expired)");
            }
            return Main.FAILED;
        }
        if (json) {
            out.println(r.toJson());
            return r.state() == io.celeriac.TaskState.SUCCESS ? Main.OK : Main.FAILED;
        }
        switch (r.state()) {
            case SUCCESS:
                out.println(r.result().toString());
                return Main.OK;
            case FAILURE:
            case REVOKED:
            case RETRY:
                ExceptionInfo e = r.exception();
                out.println(r.state() + ": " + e.summary());
                if (traceback && e.traceback() != null) {
                    out.print(e.traceback());
                }
                return Main.FAILED;
            default:
                err.println("celeriac: task " + id + " is " + r.state() + " (not finished yet)");
                return Main.FAILED;
        }
    }
}
