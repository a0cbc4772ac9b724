package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.LongString;
import io.celeriac.protocol.Json;
import io.celeriac.testkit.RabbitNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/RABBITMQ-TOPOLOGY.md against the real Celery 5.2: a Python worker ({@code -E}) on a
 * {@link RabbitNode}, a client sending a countdown task and one parked on a queue nobody consumes,
 * {@code celery inspect ping}; then every line of the page's {@code checked} block is compared with
 * {@code rabbitmqctl}'s listings and with the messages read off the node.
 */
@Tag("interop")
@Timeout(300)
class RabbitTopologyTest {
    static final String WORKER = "py-topology@celeriac";
    static final Path DOC = Path.of("..", "docs", "RABBITMQ-TOPOLOGY.md");

    @TempDir
    Path dir;

    @Test
    void whatPythonCeleryDeclaresAndSendsIsWhatTheDocumentSays() throws Exception {
        List<String> facts = checkedFacts();
        assertThat(facts).hasSizeGreaterThan(40);
        try (RabbitNode node = RabbitNode.launch(); PythonCelery fleet = new PythonCelery(dir, "rabbit_app.py", "rabbit_probe.py");
                Connection conn = node.connectionFactory().newConnection(); Channel ch = conn.createChannel()) {
            Path workerLog = dir.resolve("worker.log");
            Process worker = fleet.python(List.of(PythonCelery.PYTHON, "-m", "celery", "-A", "rabbit_app", "worker", "-E", "-c", "1",
                    "-n", WORKER, "--loglevel", "INFO"), node.url(), workerLog);
            awaitTrue(() -> Files.readString(workerLog).contains(WORKER + " ready."), 90, () -> "worker not ready:\n" + read(workerLog));
            assertThat(worker.isAlive()).isTrue();

            // copies of what goes through the control and event exchanges
            ch.queueDeclare("capture.pidbox", false, false, true, null);
            ch.queueBind("capture.pidbox", "celery.pidbox", "");
            ch.queueDeclare("capture.events", false, false, true, null);
            ch.queueBind("capture.events", "celeryev", "#");

            Path probeLog = dir.resolve("probe.log");
            Process probe = fleet.python(List.of(PythonCelery.PYTHON, "rabbit_probe.py"), node.url(), probeLog);
            assertThat(probe.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(probe.exitValue()).as(read(probeLog)).isZero();
            JsonNode ids = PythonCelery.lastJsonLine(probeLog);

            // the client's reply queue is auto-deleted when it stops consuming: list while it collects (its timeout: 20 s)
            Path pingLog = dir.resolve("ping.log");
            Process ping = fleet.python(List.of(PythonCelery.PYTHON, "-m", "celery", "-A", "rabbit_app", "inspect", "ping", "--timeout", "20"),
                    node.url(), pingLog);
            Captured request = Captured.of(awaitGet(ch, "capture.pidbox", m -> "ping".equals(m.body.path("method").asText())));
            // the reply queue's binding first, then its queue: each rabbitmqctl call may take seconds on a loaded machine
            JsonNode bindings = Json.read(node.ctl("-q", "--formatter", "json", "list_bindings", "source_name", "destination_name",
                    "routing_key"));
            JsonNode queues = Json.read(node.ctl("-q", "--formatter", "json", "list_queues", "name", "durable", "auto_delete", "exclusive",
                    "arguments"));
            JsonNode exchanges = Json.read(node.ctl("-q", "--formatter", "json", "list_exchanges", "name", "type", "durable", "auto_delete",
                    "arguments"));
            assertThat(ping.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(read(pingLog)).as(read(pingLog)).contains(WORKER + ": OK").contains("pong");

            Map<String, Captured> messages = new HashMap<>();
            messages.put("task", Captured.of(awaitGet(ch, "probe", m -> true)));
            messages.put("ping-request", request);
            String oid = request.body.path("reply_to").path("routing_key").asText();
            messages.put("ping-reply", pingAgain(ch, request));
            String runId = ids.get("run").asText();
            List<Captured> events = new ArrayList<>(); // one pass: a heartbeat and the task's events, in whatever order they came
            messages.put("heartbeat", find(ch, "capture.events", events, m -> "worker.heartbeat".equals(m.routingKey)));
            messages.put("task-events", find(ch, "capture.events", events,
                    m -> "task.multi".equals(m.routingKey) && m.body.toString().contains("\"task-succeeded\"") && m.body.toString().contains(runId)));

            Map<String, String> known = Map.of("<worker>", WORKER, "<oid>", oid, "<id>", ids.get("parked").asText());
            SoftAssertions soft = new SoftAssertions();
            for (String fact : facts) {
                String f = fact;
                for (Map.Entry<String, String> e : Map.of("<worker>", WORKER, "<oid>", oid).entrySet()) {
                    f = f.replace(e.getKey(), e.getValue());
                }
                String[] w = f.split(" ", 3);
                switch (w[0]) {
                    case "exchange" -> checkEntity(soft, fact, exchanges, w[1], "type=" + w[2]);
                    case "queue" -> checkEntity(soft, fact, queues, w[1], w[2]);
                    case "binding" -> checkBinding(soft, fact, bindings, f.split(" ", 4));
                    case "message" -> checkMessage(soft, fact, messages, f.split(" ", 4), known);
                    default -> soft.fail("unknown fact: " + fact);
                }
            }
            soft.assertAll();

            // Celery's argument values are signed 32-bit ints; RabbitMQ takes a Java Integer, and a Long, as the same declaration
            ch.queueDeclare(WORKER + ".celery.pidbox", false, false, true, Map.of("x-expires", 10000, "x-message-ttl", 300000));
            ch.queueDeclare(WORKER + ".celery.pidbox", false, false, true, Map.of("x-expires", 10000L, "x-message-ttl", 300000L));
            // a declaration with other arguments is refused and closes the channel (a queue a Python worker declared)
            try (Channel other = conn.createChannel()) {
                assertThatThrownBy(() -> other.queueDeclare("celery", true, false, false, Map.of("x-max-priority", 10)))
                        .hasStackTraceContaining("PRECONDITION_FAILED - inequivalent arg 'x-max-priority'");
                assertThat(other.isOpen()).isFalse();
            } catch (com.rabbitmq.client.AlreadyClosedException closed) {
                // closing the already-closed channel: expected
            }
            for (JsonNode q : queues) {
                for (JsonNode arg : q.path("arguments")) {
                    if (arg.get(2).isNumber()) {
                        assertThat(arg.get(1).asText()).as(q.get("name") + " " + arg).isEqualTo("signedint");
                    }
                }
            }
        }
    }

    /** The lines of the page's {@code ```checked} block. */
    static List<String> checkedFacts() throws Exception {
        List<String> out = new ArrayList<>();
        boolean in = false;
        for (String line : Files.readAllLines(DOC)) {
            if (line.equals("```checked")) {
                in = true;
            } else if (in && line.startsWith("```")) {
                break;
            } else if (in && !line.isBlank()) {
                out.add(line.strip());
            }
        }
        return out;
    }

    /** A name with {@code <uuid>} in it, as a pattern. */
    private static Pattern namePattern(String name) {
        return Pattern.compile(Pattern.quote(name).replace("<uuid>", "\\E[0-9a-f-]{36}\\Q"));
    }

    /** {@code key=value} pairs; a value runs to the next " key=" (JSON values have no spaces). */
    private static Map<String, String> pairs(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String kv : text.split(" ")) {
            int eq = kv.indexOf('=');
            out.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return out;
    }

    private static void checkEntity(SoftAssertions soft, String fact, JsonNode listing, String name, String expected) throws Exception {
        Pattern p = namePattern(name);
        List<JsonNode> found = new ArrayList<>();
        listing.forEach(e -> {
            if (p.matcher(e.get("name").asText()).matches()) {
                found.add(e);
            }
        });
        soft.assertThat(found).as(fact + " — none in\n" + listing.toPrettyString()).isNotEmpty();
        for (JsonNode e : found) {
            for (Map.Entry<String, String> kv : pairs(expected).entrySet()) {
                JsonNode actual = kv.getKey().equals("arguments") ? arguments(e.get("arguments")) : e.get(kv.getKey());
                JsonNode want = kv.getKey().equals("type") ? Json.NODES.textNode(kv.getValue()) : Json.read(kv.getValue());
                soft.assertThat(actual).as(fact + " — " + e).isEqualTo(want);
            }
        }
    }

    /** rabbitmqctl's {@code [[name, type, value], …]} as {@code {name: value}}. */
    private static JsonNode arguments(JsonNode triples) {
        ObjectNode out = Json.NODES.objectNode();
        triples.forEach(t -> out.set(t.get(0).asText(), t.get(2)));
        return out;
    }

    private static void checkBinding(SoftAssertions soft, String fact, JsonNode bindings, String[] w) {
        Pattern dest = namePattern(w[2]);
        String key = w[3].substring("routing_key=".length());
        boolean found = false;
        for (JsonNode b : bindings) {
            found |= b.get("source_name").asText().equals(w[1]) && dest.matcher(b.get("destination_name").asText()).matches()
                    && b.get("routing_key").asText().equals(key);
        }
        soft.assertThat(found).as(fact + " — not in\n" + bindings.toPrettyString()).isTrue();
    }

    private static void checkMessage(SoftAssertions soft, String fact, Map<String, Captured> messages, String[] w, Map<String, String> known)
            throws Exception {
        Captured m = messages.get(w[1]);
        int eq = w[3].indexOf('=');
        String field = w[3].substring(0, eq);
        String want = w[3].substring(eq + 1);
        JsonNode actual = switch (w[2]) {
            case "delivery" -> Json.NODES.textNode(field.equals("exchange") ? m.exchange : m.routingKey);
            case "property" -> m.properties.get(field);
            case "header" -> m.headers.get(field);
            case "body" -> m.body.at(field);
            default -> throw new AssertionError("unknown part in " + fact);
        };
        String shown = fact + " — " + m;
        if (want.equals("<any>")) {
            soft.assertThat(actual != null && !actual.isNull() && !actual.isMissingNode()).as(shown + " (present)").isTrue();
        } else if (want.equals("<id>")) {
            soft.assertThat(actual).as(shown).isEqualTo(Json.NODES.textNode(known.get("<id>")));
        } else {
            soft.assertThat(actual).as(shown).isEqualTo(Json.read(want));
        }
    }

    /** The captured ping again, its reply sent to a reply queue of ours (declared as Celery does), and that reply. */
    private static Captured pingAgain(Channel ch, Captured request) throws Exception {
        String oid = UUID.randomUUID().toString();
        String replyQueue = oid + ".reply.celery.pidbox";
        ch.queueDeclare(replyQueue, false, false, true, Map.of("x-expires", 10000, "x-message-ttl", 300000));
        ch.queueBind(replyQueue, "reply.celery.pidbox", oid);
        ObjectNode body = request.body.deepCopy();
        ((ObjectNode) body.get("reply_to")).put("routing_key", oid);
        body.put("ticket", UUID.randomUUID().toString());
        Map<String, Object> headers = new HashMap<>(request.raw.getProps().getHeaders());
        headers.put("expires", System.currentTimeMillis() / 1000.0 + 30);
        AMQP.BasicProperties props = request.raw.getProps().builder().headers(headers).build();
        ch.basicPublish("celery.pidbox", "", props, Json.write(body).getBytes(StandardCharsets.UTF_8));
        return Captured.of(awaitGet(ch, replyQueue, m -> true));
    }

    /** One message as the test compares it: properties, headers and body as JSON. */
    record Captured(GetResponse raw, String exchange, String routingKey, Map<String, JsonNode> properties, Map<String, JsonNode> headers,
            JsonNode body) {
        static Captured of(GetResponse r) throws Exception {
            AMQP.BasicProperties p = r.getProps();
            Map<String, JsonNode> props = new HashMap<>();
            putIf(props, "content_type", p.getContentType());
            putIf(props, "content_encoding", p.getContentEncoding());
            putIf(props, "delivery_mode", p.getDeliveryMode());
            putIf(props, "priority", p.getPriority());
            putIf(props, "correlation_id", p.getCorrelationId());
            putIf(props, "reply_to", p.getReplyTo());
            putIf(props, "expiration", p.getExpiration());
            Map<String, JsonNode> headers = new HashMap<>();
            if (p.getHeaders() != null) {
                p.getHeaders().forEach((k, v) -> headers.put(k, Json.toTree(plain(v))));
            }
            return new Captured(r, r.getEnvelope().getExchange(), r.getEnvelope().getRoutingKey(), props, headers,
                    Json.read(new String(r.getBody(), StandardCharsets.UTF_8)));
        }

        private static void putIf(Map<String, JsonNode> m, String k, Object v) {
            if (v != null) {
                m.put(k, Json.toTree(v));
            }
        }

        /** AMQP table values as plain Java: LongString → String, lists and tables recursively. */
        static Object plain(Object v) {
            if (v instanceof LongString s) {
                return s.toString();
            }
            if (v instanceof List<?> l) {
                return l.stream().map(Captured::plain).toList();
            }
            if (v instanceof Map<?, ?> m) {
                Map<Object, Object> out = new LinkedHashMap<>();
                m.forEach((k, x) -> out.put(k, plain(x)));
                return out;
            }
            return v;
        }

        @Override
        public String toString() {
            return "exchange=" + exchange + " routing_key=" + routingKey + " properties=" + properties + " headers=" + headers + " body=" + body;
        }
    }

    /** A message of {@code queue} that {@code wanted} accepts (others are taken and dropped), within 30 s. */
    private static GetResponse awaitGet(Channel ch, String queue, Predicate<Captured> wanted) throws Exception {
        return find(ch, queue, new ArrayList<>(), wanted).raw();
    }

    /** The first message in {@code seen}, or then taken from {@code queue} into it, that {@code wanted} accepts, within 30 s. */
    private static Captured find(Channel ch, String queue, List<Captured> seen, Predicate<Captured> wanted) throws Exception {
        for (Captured c : seen) {
            if (wanted.test(c)) {
                return c;
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            GetResponse r = ch.basicGet(queue, true);
            if (r == null) {
                Thread.sleep(50);
                continue;
            }
            Captured c = Captured.of(r);
            seen.add(c);
            if (wanted.test(c)) {
                return c;
            }
        }
        throw new AssertionError("no wanted message in " + queue + "; seen: " + seen);
    }

    interface Check {
        boolean ok() throws Exception;
    }

    private static void awaitTrue(Check check, int seconds, java.util.function.Supplier<String> why) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!check.ok()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(why.get());
            }
            Thread.sleep(100);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "(" + e.getMessage() + ")";
        }
    }
}
