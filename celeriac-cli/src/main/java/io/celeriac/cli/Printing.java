package io.celeriac.cli;

import io.celeriac.TaskState;

import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.protocol.TaskResult;
import java.io.PrintWriter;

/** How commands show a task's stored state; returns the exit code that goes with it. */
final class Printing {
    private Printing() {
    }

    /** SUCCESS: the value as JSON, exit 0. FAILURE/REVOKED: the exception, exit 1. Not finished: the state, exit 1. */
    /** The second line of a finished task: state, worker, retries, runtime, when (what the result holds of them). */
    private static void details(PrintWriter out, TaskResult r) {
        com.fasterxml.jackson.databind.node.ObjectNode o = r.extra();
        StringBuilder sb = new StringBuilder("  ").append(r.state());
        if (o.hasNonNull("name")) {
            sb.append(" · task ").append(o.get("name").asText());
        }
        if (o.hasNonNull("worker")) {
            sb.append(" · worker ").append(o.get("worker").asText());
        }
        if (o.has("retries")) {
            sb.append(" · retries ").append(o.get("retries").asInt());
        }
        if (o.has("runtime")) {
            sb.append(String.format(" · runtime %.4f s", o.get("runtime").asDouble()));
        }
        if (r.dateDone() != null) {
            sb.append(" · done ").append(r.dateDone());
        }
        out.println(sb);
    }

    static int result(PrintWriter out, PrintWriter err, String id, TaskResult r, boolean traceback, boolean json) {
        return result(out, err, id, r, traceback, json, false);
    }

    /** As above; with {@code details}, a second line says the state, worker, retries, runtime and when. */
    static int result(PrintWriter out, PrintWriter err, String id, TaskResult r, boolean traceback, boolean json, boolean details) {
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
        TaskState state = r.state();
        if (state == TaskState.SUCCESS) {
            out.println(r.result().toString());
            if (details) {
                details(out, r);
            }
            return Main.OK;
        }
        if (state == TaskState.FAILURE || state == TaskState.REVOKED || state == TaskState.RETRY) {
            ExceptionInfo e = r.exception();
            out.println(state + ": " + e.summary());
            if (traceback && e.traceback() != null) {
                out.print(e.traceback());
            }
            if (details) {
                details(out, r);
            }
            return Main.FAILED;
        }
        if (state.custom() || state == TaskState.STARTED) {
            // a state the task reported itself (update_state), with its meta, as Python stores it
            out.println(state + ": " + r.result().toString());
            if (details) {
                details(out, r);
            }
        }
        err.println("celeriac: task " + id + " is " + state + " (not finished yet)");
        return Main.FAILED;
    }
}
