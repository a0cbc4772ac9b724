package io.celeriac.bench;

import java.util.List;

/** The text of {@code --suite peers}' results: the two tables, the ratios, and how each system was configured. */
final class PeerReport {
    private PeerReport() {
    }

    static String text(List<PeerSuite.Row> rows, String endLoad) {
        StringBuilder b = new StringBuilder();
        b.append("\n## Burn-down: the backlog sent with no worker running, then drained; rate = (tasks - 1) / (last - first completion)\n\n");
        b.append(String.format("%-16s %7s %9s %10s %10s  %s%n", "system", "tasks", "load s", "drain s", "tasks/s", "load average before -> after"));
        for (PeerSuite.Row r : rows) {
            b.append(String.format("%-16s %7d %9.2f %10.2f %10.0f  %s -> %s%n", r.name(), r.tasks(), r.loadSecs(), r.burnSecs(),
                    r.burnPerSec(), shortLoad(r.loadBefore()), shortLoad(r.loadAfter())));
        }
        b.append("\n## Paced: producers send at a fixed rate while the worker consumes; latency from send to completion (ms)\n\n");
        b.append(String.format("%-16s %5s %9s %9s %7s %9s %9s %9s %9s%n", "system", "load", "target/s", "sent/s", "done",
                "p50", "p90", "p99", "max"));
        for (PeerSuite.Row r : rows) {
            paced(b, r.name(), "50%", r.half());
            paced(b, r.name(), "90%", r.ninety());
        }
        b.append("(sent/s below target/s: the producers could not send faster; a send waits for its commit, which on"
                + " PostgreSQL waits for its fsync)\n");
        b.append("\n## Ratios, Celeriac / peer on the same store (throughput: above 1 is Celeriac faster;"
                + " latency: below 1 is Celeriac faster)\n\n");
        ratios(b, rows, "celeriac-pg", "db-scheduler-pg");
        ratios(b, rows, "celeriac-pg", "jobrunr-pg");
        ratios(b, rows, "celeriac-redis", "celery-redis");
        b.append("\n## Configuration\n\n");
        for (PeerSuite.Row r : rows) {
            b.append("- ").append(r.name()).append(": ").append(r.configuration()).append('\n');
        }
        b.append("- every system: the same no-op task, 2 worker threads (slots) in one worker process of its own, started after the"
                + " backlog was sent, kept running for both paced runs; completions as each system keeps them (Celeriac and"
                + " Celery: the stored result's date_done; db-scheduler: the row deleted; JobRunr: the SUCCEEDED state's time)\n");
        b.append("- the benchmark's JVM (the producers) and the stores share the same 2 cores with the workers; other jobs ran on"
                + " the machine too: load at the end ").append(endLoad).append('\n');
        return b.toString();
    }

    private static void paced(StringBuilder b, String name, String load, Paced.Figures f) {
        b.append(String.format("%-16s %5s %9.0f %9.0f %7s %9.2f %9.2f %9.2f %9.2f%n", name, load, f.targetPerSec(), f.sentPerSec(),
                f.completed() + (f.completed() < f.tasks() ? "/" + f.tasks() : ""), f.p50ms(), f.p90ms(), f.p99ms(), f.maxMs()));
    }

    private static void ratios(StringBuilder b, List<PeerSuite.Row> rows, String ours, String theirs) {
        PeerSuite.Row c = find(rows, ours);
        PeerSuite.Row p = find(rows, theirs);
        if (c == null || p == null) {
            return;
        }
        b.append(String.format("%s / %s: burn-down %.2fx; paced 50%%: p50 %.3f, p90 %.3f, p99 %.3f;"
                        + " paced 90%%: p50 %.3f, p90 %.3f, p99 %.3f%n", ours, theirs, c.burnPerSec() / p.burnPerSec(),
                c.half().p50ms() / p.half().p50ms(), c.half().p90ms() / p.half().p90ms(), c.half().p99ms() / p.half().p99ms(),
                c.ninety().p50ms() / p.ninety().p50ms(), c.ninety().p90ms() / p.ninety().p90ms(),
                c.ninety().p99ms() / p.ninety().p99ms()));
    }

    private static PeerSuite.Row find(List<PeerSuite.Row> rows, String name) {
        return rows.stream().filter(r -> r.name().equals(name)).findFirst().orElse(null);
    }

    private static String shortLoad(String uptime) {
        return uptime.replace("load average ", "").replace(" (1, 5, 15 min)", "");
    }
}
