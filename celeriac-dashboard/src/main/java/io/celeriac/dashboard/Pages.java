package io.celeriac.dashboard;

import static io.celeriac.dashboard.Html.attr;
import static io.celeriac.dashboard.Html.q;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.TaskState;
import io.celeriac.beat.Beat;
import io.celeriac.protocol.Json;
import io.celeriac.spi.TaskHistory;
import io.celeriac.spi.TaskRecord;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The pages, as HTML fragments: each page's live part ({@code <main id="live">}, refreshed by
 * {@code dashboard.js} from {@code /live/PAGE}) and the frame around it. Every element a test or a
 * script looks for has a stable id or class and {@code data-} attributes ({@code data-node},
 * {@code data-task-id}, {@code data-state}, {@code data-queue}, …). Controls are forms that POST
 * with the CSRF token; in read-only mode they are not rendered.
 */
final class Pages {
    static final List<String> PAGES = List.of("overview", "workers", "tasks", "queues", "beat");

    private final DashboardSources src;
    private final boolean readOnly;

    Pages(DashboardSources src, boolean readOnly) {
        this.src = src;
        this.readOnly = readOnly;
    }

    /** The whole document: head, navigation, the live part, the scripts. */
    Html frame(String page, String title, String liveUrl, Html before, Html live, String notice) {
        Html h = new Html();
        h.raw("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
                .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
                .el("title", null, title + " · Celeriac")
                .raw("<link rel=\"stylesheet\" href=\"/static/uplot.css\"><link rel=\"stylesheet\" href=\"/static/dashboard.css\">")
                .raw("</head><body " + attr("data-page", page) + "><header><a class=\"brand\" href=\"/\">Celeriac</a><nav id=\"nav\">");
        for (String p : PAGES) {
            String href = p.equals("overview") ? "/" : "/" + p;
            h.raw("<a " + attr("href", href) + " " + attr("id", "nav-" + p) + (p.equals(page) ? " class=\"current\"" : "") + ">")
                    .text(p.substring(0, 1).toUpperCase() + p.substring(1)).raw("</a>");
        }
        h.raw("</nav>");
        if (readOnly) {
            h.raw("<span id=\"read-only\" class=\"badge\">read-only</span>");
        }
        h.raw("</header>");
        if (notice != null && !notice.isBlank()) {
            h.raw("<p id=\"notice\" class=\"notice\">").text(notice).raw("</p>");
        }
        if (before != null) {
            h.add(before);
        }
        h.raw("<main id=\"live\" " + attr("data-live", liveUrl) + ">").add(live).raw("</main>");
        h.raw("<footer>").text("broker " + src.app.broker().describe()).raw(" · <span id=\"updated\"></span></footer>");
        h.raw("<script src=\"/static/uplot.js\"></script><script src=\"/static/dashboard.js\"></script></body></html>");
        return h;
    }

    // --- overview --------------------------------------------------------------------------------

    /** The chart: outside the live part (uPlot keeps its own canvas; chart.js in dashboard.js feeds it). */
    Html chart() {
        Html h = new Html();
        h.raw("<div class=\"wrap\"><section id=\"rates\"><h2>Tasks per minute</h2><div id=\"rates-chart\" data-src=\"/api/rates\"></div>")
                .raw("<p id=\"rates-source\" class=\"muted\">").text("from " + src.rates().source()).raw("</p></section></div>");
        return h;
    }

    Html overview() {
        Html h = new Html();
        List<DashboardSources.WorkerView> ws = src.workers(false);
        long online = ws.stream().filter(DashboardSources.WorkerView::online).count();
        h.raw("<section id=\"workers-summary\" class=\"cards\">")
                .raw("<div class=\"card\" id=\"workers-online\" " + attr("data-count", online) + "><b>").text(online).raw("</b> workers online</div>")
                .raw("<div class=\"card\" id=\"workers-offline\" " + attr("data-count", ws.size() - online) + "><b>").text(ws.size() - online)
                .raw("</b> offline</div>");
        long dead = src.deadLetterCount();
        h.raw("<div class=\"card\" id=\"dead-letters\" " + attr("data-count", dead) + "><a href=\"/queues#dlq\"><b>").text(dead)
                .raw("</b> dead letters</a></div>");
        Optional<TaskHistory> hist = src.history();
        if (hist.isPresent()) {
            long n = hist.get().count();
            h.raw("<div class=\"card\" id=\"history-count\" " + attr("data-count", n) + "><a href=\"/tasks\"><b>").text(n)
                    .raw("</b> tasks stored</a></div>");
        }
        h.raw("</section>");
        h.raw("<section><h2>Workers</h2><ul id=\"worker-list\" class=\"plain\">");
        for (DashboardSources.WorkerView w : ws) {
            h.raw("<li class=\"worker\" " + attr("data-node", w.node()) + " " + attr("data-online", w.online()) + ">")
                    .raw(dot(w.online() ? (w.progressing() ? "ok" : "warn") : "bad")).link("/workers#" + w.node(), w.node())
                    .raw(" <span class=\"muted\">").text(w.online() ? (w.progressing() ? "online" : "online, no progress") : "offline")
                    .text(String.format(", heartbeat %.0f s ago, %d done", w.heartbeatAge(),
                            w.beat().path("succeeded").asLong() + w.beat().path("failed").asLong()))
                    .raw("</span></li>");
        }
        if (ws.isEmpty()) {
            h.raw("<li class=\"muted\">no worker has sent a heartbeat in the last 10 minutes</li>");
        }
        h.raw("</ul></section>");
        h.add(queueTable(false));
        h.add(manager());
        h.add(healthRuns());
        return h;
    }

    private Html manager() {
        Html h = new Html();
        DashboardSources.ManagerView m = src.manager();
        h.raw("<section id=\"manager\"><h2>Manager</h2>");
        if (m.processes() == null) {
            h.raw("<p class=\"muted\" id=\"manager-problem\">").text(m.problem()).raw("</p></section>");
            return h;
        }
        h.raw("<p class=\"muted\">").text("pid " + m.pid()).raw("</p><div class=\"scroll\"><table id=\"processes\"><thead><tr>")
                .raw("<th>process</th><th>state</th><th>pid</th><th>uptime</th><th>restarts</th><th>last exit</th></tr></thead><tbody>");
        for (JsonNode p : m.processes()) {
            String state = p.path("state").asText();
            h.raw("<tr class=\"process\" " + attr("data-process", p.path("process").asText()) + " " + attr("data-state", state) + ">")
                    .el("td", null, p.path("process").asText())
                    .raw("<td>").raw(dot(state.equals("RUNNING") ? "ok" : state.equals("STARTING") ? "warn" : "bad")).text(state).raw("</td>")
                    .el("td", null, p.path("pid").isNull() ? "-" : p.path("pid").asText())
                    .el("td", null, p.path("uptime_seconds").isNull() ? "-" : duration(p.path("uptime_seconds").asLong()))
                    .el("td", null, p.path("restarts").asInt())
                    .el("td", null, p.path("last_exit").asText()).raw("</tr>");
        }
        h.raw("</tbody></table></div></section>");
        return h;
    }

    private Html healthRuns() {
        Html h = new Html();
        List<DashboardSources.HealthRun> runs = src.healthRuns(12);
        h.raw("<section id=\"health\"><h2>Health check runs</h2>");
        if (runs.isEmpty()) {
            h.raw("<p class=\"muted\" id=\"health-none\">").text("celeriac.health_check has not run yet"
                    + (src.history().isPresent() ? "" : " while this dashboard ran") + " (beat sends it every health_check_interval)")
                    .raw("</p></section>");
            return h;
        }
        h.raw("<ol id=\"health-runs\" class=\"timeline\">");
        for (DashboardSources.HealthRun r : runs) {
            h.raw("<li class=\"health-run\" " + attr("data-healthy", r.healthy()) + ">").raw(dot(r.healthy() ? "ok" : "bad"))
                    .el("time", null, time(r.at())).raw(" ").text(r.healthy() ? "healthy" : "UNHEALTHY")
                    .raw(" <span class=\"muted\">").text(r.node() == null ? "" : "on " + r.node()).raw("</span><ul class=\"checks\">");
            r.checks().properties().forEach(e -> {
                JsonNode c = e.getValue();
                boolean ok = c.path("ok").asBoolean();
                h.raw("<li class=\"check\" " + attr("data-check", e.getKey()) + " " + attr("data-ok", ok) + ">").raw(dot(ok ? "ok" : "bad"))
                        .text(e.getKey()).raw(" <span class=\"muted\">")
                        .text((c.has("latency_ms") ? c.path("latency_ms").asDouble() + " ms" : "")
                                + (c.hasNonNull("error") ? " — " + c.path("error").asText() : ""))
                        .raw("</span></li>");
            });
            h.raw("</ul></li>");
        }
        h.raw("</ol></section>");
        return h;
    }

    // --- workers ---------------------------------------------------------------------------------

    Html workers(String csrf) {
        Html h = new Html();
        List<DashboardSources.WorkerView> ws = src.workers(true);
        h.raw("<section id=\"workers\">");
        if (ws.isEmpty()) {
            h.raw("<p class=\"muted\">no worker has sent a heartbeat in the last 10 minutes</p>");
        }
        for (DashboardSources.WorkerView w : ws) {
            JsonNode b = w.beat();
            JsonNode s = w.stats() == null ? Json.NODES.objectNode() : w.stats();
            h.raw("<article class=\"worker\" " + attr("id", w.node()) + " " + attr("data-node", w.node()) + " "
                    + attr("data-online", w.online()) + " " + attr("data-progressing", w.progressing()) + ">");
            h.raw("<h2>").raw(dot(w.online() ? (w.progressing() ? "ok" : "warn") : "bad")).text(w.node()).raw("</h2><dl class=\"facts\">");
            fact(h, "state", w.online() ? (w.progressing() ? "online, making progress" : "online, NO progress (neither polled nor finished a task within worker_liveness_timeout)") : "offline");
            fact(h, "heartbeat", String.format("%.1f s ago", w.heartbeatAge()));
            fact(h, "pool", b.path("pool_description").asText(s.path("pool_description").asText("?")));
            fact(h, "concurrency", b.path("concurrency").asText());
            fact(h, "running", b.path("active").asText());
            fact(h, "succeeded / failed / retried", b.path("succeeded").asLong() + " / " + b.path("failed").asLong() + " / " + b.path("retried").asLong());
            fact(h, "pid", b.path("pid").asText());
            JsonNode procs = s.path("pool").path("processes");
            if (procs.isArray() && !procs.isEmpty()) {
                StringBuilder pids = new StringBuilder();
                procs.forEach(p -> pids.append(pids.length() == 0 ? "" : ", ").append(p.asText()));
                fact(h, "children (pids)", pids.toString());
            }
            JsonNode ps = s.path("pool_stats").isObject() ? s.path("pool_stats") : b.path("pool_stats");
            if (ps.has("children_started")) {
                fact(h, "children started / retired / lost / killed at a time limit", ps.path("children_started").asLong() + " / "
                        + ps.path("children_retired").asLong() + " / " + ps.path("children_lost").asLong() + " / " + ps.path("time_limit_kills").asLong());
                if (ps.has("children_recycled")) {
                    fact(h, "app reloads in children (worker_max_tasks_per_child)", Long.toString(ps.path("children_recycled").asLong()));
                }
            }
            if (s.path("rusage").has("maxrss")) {
                fact(h, "resident memory (peak)", String.format("%.1f MiB", s.path("rusage").path("maxrss").asLong() / 1024.0));
            }
            if (s.path("queues").isArray()) {
                StringBuilder qs = new StringBuilder();
                s.path("queues").forEach(q -> qs.append(qs.length() == 0 ? "" : ", ").append(q.asText()));
                fact(h, "queues", qs.toString());
            }
            if (w.stats() == null) {
                fact(h, "stats", "no reply to inspect stats within 1 s");
            }
            h.raw("</dl>");
            JsonNode total = s.path("total");
            if (total.isObject() && !total.isEmpty()) {
                h.raw("<table class=\"done-by-name\"><thead><tr><th>task</th><th>done</th></tr></thead><tbody>");
                total.properties().forEach(e -> h.raw("<tr " + attr("data-task-name", e.getKey()) + ">").el("td", null, e.getKey())
                        .el("td", null, e.getValue().asLong()).raw("</tr>"));
                h.raw("</tbody></table>");
            }
            if (!readOnly && w.online()) {
                h.add(workerControls(w.node(), csrf));
            }
            h.raw("</article>");
        }
        h.raw("</section>");
        return h;
    }

    private Html workerControls(String node, String csrf) {
        Html h = new Html();
        String hidden = hidden("csrf", csrf) + hidden("node", node);
        h.raw("<div class=\"controls\">");
        for (String way : List.of("grow", "shrink")) {
            h.raw("<form method=\"post\" action=\"/control/worker\" class=\"inline\">").raw(hidden).raw(hidden("action", "pool_" + way))
                    .raw("<input type=\"number\" name=\"n\" value=\"1\" min=\"1\" max=\"1000\" aria-label=\"by\">")
                    .raw("<button class=\"pool-" + way + "\">" + way + " pool</button></form>");
        }
        h.raw("<form method=\"post\" action=\"/control/worker\" class=\"inline\">").raw(hidden).raw(hidden("action", "rate_limit"))
                .raw("<input name=\"task\" placeholder=\"task name\" required><input name=\"rate\" placeholder=\"10/s (0: none)\" required>")
                .raw("<button class=\"rate-limit\">set rate limit</button></form>");
        h.raw("<form method=\"post\" action=\"/control/worker\" class=\"inline\">").raw(hidden).raw(hidden("action", "time_limit"))
                .raw("<input name=\"task\" placeholder=\"task name\" required><input name=\"soft\" placeholder=\"soft s\" required>")
                .raw("<input name=\"hard\" placeholder=\"hard s\" required><button class=\"time-limit\">set time limits</button></form>");
        h.raw("<form method=\"post\" action=\"/control/worker\" class=\"inline\" data-confirm=\"Shut this worker down (warm)?\">")
                .raw(hidden).raw(hidden("action", "shutdown")).raw("<button class=\"shutdown danger\">shut down</button></form>");
        h.raw("</div>");
        return h;
    }

    // --- tasks -----------------------------------------------------------------------------------

    /** The task list's search as the query string gives it. */
    record Search(String id, String name, String state, String worker, String from, String to, String cursor) {
        static Search of(Map<String, String> q) {
            return new Search(q.get("id"), q.get("name"), q.get("state"), q.get("worker"), q.get("from"), q.get("to"), q.get("cursor"));
        }

        String query(String withCursor) {
            StringBuilder b = new StringBuilder();
            for (String[] kv : new String[][] {{"id", id}, {"name", name}, {"state", state}, {"worker", worker}, {"from", from},
                    {"to", to}, {"cursor", withCursor}}) {
                if (kv[1] != null && !kv[1].isBlank()) {
                    b.append(b.length() == 0 ? "?" : "&").append(kv[0]).append('=').append(q(kv[1]));
                }
            }
            return b.toString();
        }

        TaskHistory.Query toQuery(int limit) {
            return new TaskHistory.Query(blank(id), blank(name), blank(state) == null ? null : TaskState.parse(state.trim().toUpperCase()),
                    blank(worker), instant(from, "from"), instant(to, "to"), limit, blank(cursor));
        }

        private static String blank(String s) {
            return s == null || s.isBlank() ? null : s.trim();
        }

        private static Instant instant(String s, String what) {
            if (blank(s) == null) {
                return null;
            }
            String t = s.trim();
            try {
                if (t.length() == 16) { // <input type="datetime-local">: 2026-12-02T10:15, taken as UTC
                    t = t + ":00";
                }
                return t.endsWith("Z") || t.matches(".*[+-]\\d\\d:\\d\\d$") ? java.time.OffsetDateTime.parse(t).toInstant()
                        : java.time.LocalDateTime.parse(t).toInstant(java.time.ZoneOffset.UTC);
            } catch (java.time.format.DateTimeParseException e) {
                throw new IllegalArgumentException(what + ": expected a time such as 2026-12-02T10:15 (UTC), got '" + s + "'");
            }
        }
    }

    Html taskSearchForm(Search s) {
        Html h = new Html();
        h.raw("<form id=\"task-search\" method=\"get\" action=\"/tasks\" class=\"search\">")
                .raw("<input name=\"id\" placeholder=\"task id or its start\" " + attr("value", s.id()) + ">")
                .raw("<input name=\"name\" placeholder=\"task name\" " + attr("value", s.name()) + ">")
                .raw("<select name=\"state\"><option value=\"\">any state</option>");
        for (String st : List.of("PENDING", "RECEIVED", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED", "REJECTED")) {
            h.raw("<option " + attr("value", st) + (st.equalsIgnoreCase(s.state() == null ? "" : s.state()) ? " selected" : "") + ">")
                    .text(st).raw("</option>");
        }
        h.raw("</select><input name=\"worker\" placeholder=\"worker node\" " + attr("value", s.worker()) + ">")
                .raw("<label>from <input type=\"datetime-local\" name=\"from\" " + attr("value", s.from()) + "></label>")
                .raw("<label>to <input type=\"datetime-local\" name=\"to\" " + attr("value", s.to()) + "></label>")
                .raw("<button>search</button> <span class=\"muted\">times in UTC</span></form>");
        return h;
    }

    Html tasks(Search s) {
        Html h = new Html();
        Optional<TaskHistory> hist = src.history();
        if (hist.isEmpty()) {
            h.raw("<p id=\"history-off\" class=\"notice\">").text(src.historyProblem()).raw("</p>");
            return h;
        }
        TaskHistory.Page page;
        try {
            page = hist.get().find(s.toQuery(50));
        } catch (IllegalArgumentException e) {
            h.raw("<p id=\"search-error\" class=\"notice\">").text(e.getMessage()).raw("</p>");
            return h;
        }
        h.raw("<div class=\"scroll\"><table id=\"tasks\"><thead><tr><th>task</th><th>name</th><th>state</th><th>worker</th>")
                .raw("<th>updated</th><th>runtime</th></tr></thead><tbody>");
        for (TaskRecord r : page.records()) {
            h.raw("<tr class=\"task\" " + attr("data-task-id", r.id()) + " " + attr("data-state", r.state().name()) + ">")
                    .raw("<td class=\"id\">").link("/tasks/" + q(r.id()), r.id()).raw("</td>")
                    .el("td", null, r.name()).raw("<td>").add(state(r.state())).raw("</td>")
                    .el("td", null, r.worker() == null ? "" : r.worker()).el("td", null, time(r.updated()))
                    .el("td", null, r.runtime() == null ? "" : String.format("%.3f s", r.runtime())).raw("</tr>");
        }
        if (page.records().isEmpty()) {
            h.raw("<tr><td colspan=\"6\" class=\"muted\">no task matches</td></tr>");
        }
        h.raw("</tbody></table></div><p class=\"pager\">");
        if (s.cursor() != null && !s.cursor().isBlank()) {
            h.raw("<a id=\"first-page\" " + attr("href", "/tasks" + s.query(null)) + ">first page</a> ");
        }
        if (page.next() != null) {
            h.raw("<a id=\"next-page\" " + attr("href", "/tasks" + s.query(page.next())) + ">next page</a>");
        }
        h.raw("</p>");
        return h;
    }

    /** One task's page, or null when the history has no such id. */
    Html task(String id, String csrf) {
        Optional<TaskHistory> hist = src.history();
        Html h = new Html();
        if (hist.isEmpty()) {
            h.raw("<p id=\"history-off\" class=\"notice\">").text(src.historyProblem()).raw("</p>");
            return h;
        }
        Optional<TaskRecord> got = hist.get().get(id);
        if (got.isEmpty()) {
            return null;
        }
        TaskRecord r = got.get();
        h.raw("<article id=\"task\" " + attr("data-task-id", r.id()) + " " + attr("data-state", r.state().name()) + ">");
        h.raw("<h2>").text(r.name()).raw(" ").add(state(r.state())).raw("</h2><dl class=\"facts\">");
        fact(h, "id", r.id());
        fact(h, "worker", r.worker() == null ? "-" : r.worker());
        fact(h, "queue", r.queue() == null ? "-" : r.queue());
        fact(h, "received", r.received() == null ? "-" : time(r.received()));
        fact(h, "started", r.started() == null ? "-" : time(r.started()));
        fact(h, "updated", time(r.updated()));
        fact(h, "runtime", r.runtime() == null ? "-" : String.format("%.3f s", r.runtime()));
        fact(h, "retries", Integer.toString(r.retries()));
        h.raw("</dl>");
        h.raw("<h3>Arguments</h3><pre id=\"args\">").text(r.args() == null ? "(not recorded)" : r.args()).raw("</pre>");
        h.raw("<pre id=\"kwargs\">").text(r.kwargs() == null ? "" : r.kwargs()).raw("</pre>");
        if (r.result() != null) {
            h.raw("<h3>Result</h3><pre id=\"result\">").text(r.result()).raw("</pre>");
        }
        if (r.exception() != null) {
            h.raw("<h3>Exception</h3><pre id=\"exception\">").text(r.exception()).raw("</pre>");
        }
        if (r.traceback() != null) {
            h.raw("<h3>Traceback</h3><pre id=\"traceback\">").text(r.traceback()).raw("</pre>");
        }
        h.raw("<h3>Timeline</h3><ol id=\"timeline\" class=\"timeline\">");
        for (TaskRecord.Step st : r.timeline()) {
            h.raw("<li class=\"step\" " + attr("data-state", st.state().name()) + ">").el("time", null, time(st.at())).raw(" ")
                    .add(state(st.state())).raw(" <span class=\"muted\">")
                    .text((st.worker() == null ? "" : "on " + st.worker()) + (st.retries() > 0 ? ", retry " + st.retries() : "")
                            + (st.detail() == null ? "" : " — " + st.detail())).raw("</span></li>");
        }
        h.raw("</ol><h3>Workflow</h3><ul id=\"relations\" class=\"plain\">");
        relation(h, "parent", r.parentId());
        if (r.rootId() != null && !r.rootId().equals(r.id())) {
            relation(h, "root", r.rootId());
        }
        if (r.groupId() != null) {
            h.raw("<li class=\"group\" " + attr("data-group-id", r.groupId()) + ">group ").text(r.groupId()).raw("</li>");
        }
        for (String c : r.children()) {
            relation(h, "child", c);
        }
        if (r.parentId() == null && r.groupId() == null && r.children().isEmpty()) {
            h.raw("<li class=\"muted\">no parent, group or children</li>");
        }
        h.raw("</ul>");
        if (!readOnly) {
            String hidden = hidden("csrf", csrf) + hidden("id", r.id());
            h.raw("<div class=\"controls\">");
            h.raw("<form method=\"post\" action=\"/control/task\" class=\"inline\">").raw(hidden).raw(hidden("action", "revoke"))
                    .raw("<button id=\"revoke\">revoke</button></form>");
            h.raw("<form method=\"post\" action=\"/control/task\" class=\"inline\" data-confirm=\"Terminate this task if it runs?\">")
                    .raw(hidden).raw(hidden("action", "terminate")).raw("<button id=\"terminate\" class=\"danger\">terminate</button></form>");
            if (r.args() != null) {
                h.raw("<form method=\"post\" action=\"/control/task\" class=\"inline\">").raw(hidden).raw(hidden("action", "resend"))
                        .raw("<button id=\"resend\">send again</button></form>");
            }
            h.raw("</div>");
        }
        h.raw("</article>");
        return h;
    }

    private static void relation(Html h, String kind, String id) {
        if (id == null) {
            return;
        }
        h.raw("<li " + attr("class", kind) + " " + attr("data-task-id", id) + ">").text(kind + " ").link("/tasks/" + q(id), id).raw("</li>");
    }

    // --- queues ----------------------------------------------------------------------------------

    Html queues(String csrf) {
        Html h = new Html();
        h.add(queueTable(!readOnly, csrf));
        h.raw("<section id=\"dlq\"><h2>Dead-letter queue <code>").text(src.deadLetterQueue()).raw("</code></h2>");
        List<DashboardSources.DeadLetter> letters;
        try {
            letters = src.deadLetters(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            letters = List.of();
        }
        long total = Math.max(src.deadLetterCount(), letters.size()); // the ones listed are back on the queue by now
        h.raw("<p class=\"muted\" id=\"dlq-count\" " + attr("data-count", total) + ">").text(total + " message" + (total == 1 ? "" : "s")
                + (total > letters.size() ? " (the first " + letters.size() + " shown)" : "")).raw("</p>");
        if (!readOnly && !letters.isEmpty()) {
            h.raw("<div class=\"controls\"><form method=\"post\" action=\"/control/deadletters\" class=\"inline\" data-confirm=\"Replay every dead letter?\">")
                    .raw(hidden("csrf", csrf)).raw(hidden("action", "replay_all")).raw("<button id=\"replay-all\">replay all</button></form>")
                    .raw("<form method=\"post\" action=\"/control/purge\" class=\"inline\" data-confirm=\"Delete every dead letter?\">")
                    .raw(hidden("csrf", csrf)).raw(hidden("queue", src.deadLetterQueue()))
                    .raw("<label><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required> sure</label>")
                    .raw("<button id=\"purge-dlq\" class=\"danger\">purge</button></form></div>");
        }
        h.raw("<div class=\"scroll\"><table id=\"dead-letter-list\"><thead><tr><th>task</th><th>from queue</th><th>reason</th><th>when</th>")
                .raw("<th></th></tr></thead><tbody>");
        for (DashboardSources.DeadLetter l : letters) {
            h.raw("<tr class=\"dead-letter\" " + attr("data-task-id", l.id()) + " " + attr("data-queue", l.queue()) + ">")
                    .raw("<td>").text(l.task() == null ? "?" : l.task()).raw("<br><span class=\"muted id\">").text(l.id() == null ? "(undecodable)" : l.id())
                    .raw("</span></td>").el("td", null, l.queue()).el("td", "class=\"reason\"", l.reason())
                    .el("td", null, l.time() == null ? "" : l.time() + (l.node() == null ? "" : " on " + l.node())).raw("<td>");
            if (!readOnly && l.id() != null && l.payload() != null) {
                h.raw("<form method=\"post\" action=\"/control/deadletters\">").raw(hidden("csrf", csrf)).raw(hidden("action", "replay"))
                        .raw(hidden("id", l.id())).raw("<button class=\"replay\">replay</button></form>");
            }
            h.raw("</td></tr>");
        }
        if (letters.isEmpty()) {
            h.raw("<tr><td colspan=\"5\" class=\"muted\">empty</td></tr>");
        }
        h.raw("</tbody></table></div></section>");
        return h;
    }

    private Html queueTable(boolean controls) {
        return queueTable(controls, null);
    }

    private Html queueTable(boolean controls, String csrf) {
        Html h = new Html();
        h.raw("<section><h2>Queues</h2><div class=\"scroll\"><table id=\"queues\"><thead><tr><th>queue</th><th>waiting</th>")
                .raw("<th>change / min</th><th>done / min (5 min)</th>").raw(controls ? "<th></th>" : "").raw("</tr></thead><tbody>");
        for (DashboardSources.QueueView q : src.queues()) {
            h.raw("<tr class=\"queue\" " + attr("data-queue", q.name()) + " " + attr("data-length", q.length()) + ">")
                    .el("td", null, q.name()).el("td", "class=\"length\"", q.length())
                    .el("td", "class=\"change\"", q.perMinute() == null ? "…" : String.format("%+.1f", q.perMinute()))
                    .el("td", "class=\"done\"", q.donePerMinute() == null ? "-" : String.format("%.1f", q.donePerMinute()));
            if (controls) {
                h.raw("<td><form method=\"post\" action=\"/control/purge\" class=\"inline\" " + attr("data-confirm", "Delete every message waiting on " + q.name() + "?") + ">")
                        .raw(hidden("csrf", csrf)).raw(hidden("queue", q.name()))
                        .raw("<label><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required> sure</label>")
                        .raw("<button class=\"purge danger\">purge</button></form></td>");
            }
            h.raw("</tr>");
        }
        h.raw("</tbody></table></div></section>");
        return h;
    }

    // --- beat ------------------------------------------------------------------------------------

    Html beat() {
        Html h = new Html();
        DashboardSources.BeatView b = src.beat();
        h.raw("<section id=\"beat\"><p id=\"leader\" " + attr("data-leader", b.leader() == null ? "" : b.leader()) + ">leader: <b>")
                .text(b.leader() == null ? "none" : b.leader()).raw("</b></p>");
        h.raw("<ul id=\"beats\" class=\"plain\">");
        for (String line : b.beats()) {
            h.el("li", "class=\"beat\"", line);
        }
        if (b.beats().isEmpty()) {
            h.raw("<li class=\"muted\">no beat has sent a heartbeat in the last 10 minutes</li>");
        }
        h.raw("</ul>");
        if (b.problem() != null) {
            h.raw("<p class=\"notice\">").text(b.problem()).raw("</p>");
        }
        h.raw("<div class=\"scroll\"><table id=\"beat-entries\"><thead><tr><th>entry</th><th>schedule</th><th>task</th><th>next run</th>")
                .raw("<th>last run</th></tr></thead><tbody>");
        for (Beat.EntryStatus e : b.entries()) {
            h.raw("<tr class=\"entry\" " + attr("data-entry", e.name()) + ">").el("td", null, e.name()).el("td", null, e.schedule())
                    .el("td", null, e.task()).el("td", "class=\"next\"", time(e.next()))
                    .el("td", "class=\"last\"", e.lastRun() == null ? "never" : e.lastRun()).raw("</tr>");
        }
        if (b.entries().isEmpty()) {
            h.raw("<tr><td colspan=\"5\" class=\"muted\">beat_schedule has no entries</td></tr>");
        }
        h.raw("</tbody></table></div></section>");
        return h;
    }

    // --- bits ------------------------------------------------------------------------------------

    static String hidden(String name, String value) {
        return "<input type=\"hidden\" " + attr("name", name) + " " + attr("value", value) + ">";
    }

    private static void fact(Html h, String name, String value) {
        h.el("dt", null, name).el("dd", null, value);
    }

    private static String dot(String kind) {
        return "<span class=\"dot " + kind + "\" aria-hidden=\"true\"></span>";
    }

    static Html state(TaskState s) {
        String k = switch (s.name()) {
            case "SUCCESS" -> "ok";
            case "FAILURE", "REVOKED", "REJECTED" -> "bad";
            case "RETRY" -> "warn";
            default -> "info";
        };
        return new Html().raw("<span class=\"state " + k + "\" " + attr("data-state", s.name()) + ">").text(s.name()).raw("</span>");
    }

    static String time(Instant t) {
        return t == null ? "" : t.truncatedTo(ChronoUnit.SECONDS).toString().replace('T', ' ').replace("Z", " UTC");
    }

    private static String duration(long s) {
        return String.format("%d:%02d:%02d", s / 3600, (s % 3600) / 60, s % 60);
    }
}
