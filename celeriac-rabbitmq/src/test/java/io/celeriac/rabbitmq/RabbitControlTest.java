package io.celeriac.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.spi.Backends;
import io.celeriac.spi.Broker;
import io.celeriac.spi.ControlChannel;
import io.celeriac.spi.EventChannel;
import io.celeriac.testkit.RabbitNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Celery's pidbox and celeryev exchanges as Celeriac declares and uses them (docs/RABBITMQ-TOPOLOGY.md §6, §7). */
@Tag("integration")
@Timeout(120)
class RabbitControlTest {
    private static RabbitNode node;
    private static Broker broker;

    @BeforeAll
    static void start() throws Exception {
        node = RabbitNode.launch();
        broker = Backends.openBroker(Config.builder().set(Settings.BROKER_URL, node.url()).build());
    }

    @AfterAll
    static void stop() throws Exception {
        broker.close();
        node.close();
    }

    @Test
    void aWorkerAnswersOnItsPidboxQueueAndCastsNeedNoReply() throws Exception {
        ControlChannel control = broker.control(null);
        List<String> casts = new CopyOnWriteArrayList<>();
        try (AutoCloseable w1 = control.serve("w1@test", (method, args) -> {
            if (method.equals("revoke")) {
                casts.add(args.path("task_id").asText());
            }
            return Json.NODES.objectNode().put("ok", "pong");
        }); AutoCloseable w2 = control.serve("w2@test", (method, args) -> Json.NODES.objectNode().put("ok", "pong from 2"))) {
            String queues = node.ctl("-q", "--formatter", "json", "list_queues", "name", "durable", "auto_delete", "arguments");
            JsonNode listed = Json.read(queues);
            JsonNode mine = null;
            for (JsonNode q : listed) {
                if (q.path("name").asText().equals("w1@test.celery.pidbox")) {
                    mine = q;
                }
            }
            assertThat(mine).as(queues).isNotNull();
            assertThat(mine.path("durable").asBoolean()).isFalse();
            assertThat(mine.path("auto_delete").asBoolean()).isTrue();
            Map<String, String> args = new java.util.TreeMap<>();
            mine.path("arguments").forEach(t -> args.put(t.get(0).asText(), t.get(1).asText() + " " + t.get(2).asText()));
            assertThat(args).containsExactly(Map.entry("x-expires", "signedint 10000"), Map.entry("x-message-ttl", "signedint 300000"));

            Map<String, JsonNode> all = control.call("ping", null, null, List.of("w1@test", "w2@test"), Duration.ofSeconds(5));
            assertThat(all.keySet()).containsExactlyInAnyOrder("w1@test", "w2@test");
            assertThat(all.get("w1@test").path("ok").asText()).isEqualTo("pong");
            Map<String, JsonNode> one = control.call("ping", null, List.of("w2@test"), List.of(), Duration.ofSeconds(5));
            assertThat(one.keySet()).containsExactly("w2@test");

            control.cast("revoke", Json.NODES.objectNode().put("task_id", "t-1"), List.of("w1@test"));
            await().atMost(Duration.ofSeconds(5)).until(() -> casts.contains("t-1"));
        }
        // the reply queues were auto-deleted with their consumers
        assertThat(node.ctl("-q", "list_queues", "name")).doesNotContain("reply.celery.pidbox");
    }

    @Test
    void eventsGoToTheCeleryevTopicExchangeAndBatchesAreUnpacked() throws Exception {
        EventChannel events = broker.events(null);
        List<JsonNode> got = new CopyOnWriteArrayList<>();
        try (AutoCloseable l = events.listen(got::add); Connection c = node.connectionFactory().newConnection();
                Channel ch = c.createChannel()) {
            String q = ch.queueDeclare().getQueue();
            ch.queueBind(q, "celeryev", "worker.#");
            events.send(Json.NODES.objectNode().put("type", "worker-heartbeat").put("hostname", "w1@test"));
            // a Python worker's task events: one task.multi message, a list of events
            AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().contentType("application/json").contentEncoding("utf-8")
                    .deliveryMode(1).headers(Map.of("hostname", "py@test")).build();
            ch.basicPublish("celeryev", "task.multi", props,
                    "[{\"type\":\"task-received\",\"uuid\":\"u1\"},{\"type\":\"task-started\",\"uuid\":\"u1\"}]".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(5)).until(() -> got.size() == 3);
            // two publishers on two connections: no order between them, but a batch keeps its own order
            List<String> types = got.stream().map(e -> e.path("type").asText()).toList();
            assertThat(types).containsExactlyInAnyOrder("worker-heartbeat", "task-received", "task-started");
            assertThat(types.indexOf("task-received")).isLessThan(types.indexOf("task-started"));
            var raw = ch.basicGet(q, true);
            assertThat(raw.getEnvelope().getRoutingKey()).isEqualTo("worker.heartbeat");
            assertThat(raw.getProps().getDeliveryMode()).isEqualTo(1);
            assertThat(raw.getProps().getHeaders().get("hostname").toString()).isEqualTo("w1@test");
        }
    }
}
