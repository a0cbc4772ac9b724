package io.celeriac.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import io.celeriac.BrokerException;
import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.Backends;
import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Delivery;
import io.celeriac.testkit.RabbitNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What is particular to RabbitMQ: Celery's message form, redelivery on channel close, declarations, quorum queues. */
@Tag("integration")
@Timeout(120)
class RabbitBrokerTest {
    private static RabbitNode node;
    private final List<Broker> opened = new ArrayList<>();
    private final String queue = "t-" + UUID.randomUUID();

    @BeforeAll
    static void start() throws Exception {
        node = RabbitNode.launch();
    }

    @AfterAll
    static void stop() throws Exception {
        node.close();
    }

    @AfterEach
    void closeAll() {
        opened.forEach(Broker::close);
    }

    private Broker broker(Config.Builder extra) {
        Broker b = Backends.openBroker(extra.set(Settings.BROKER_URL, node.url())
                .set(Settings.COORDINATION_URL, "memory://rabbit-broker-test").build());
        opened.add(b);
        return b;
    }

    private Broker broker() {
        return broker(Config.builder());
    }

    @Test
    void aTaskIsSentAsCelerySendsItAndCeleryFormIsRead() throws Exception {
        Broker b = broker();
        TaskMessage m = TaskMessage.builder("add").args(Json.NODES.arrayNode().add(4).add("ünï 🥬")).priority(3)
                .expires(Instant.now().plusSeconds(600)).build();
        b.publish(queue, new BrokerMessage(m.id(), MessageCodec.encode(m), 3, null));
        try (Connection c = node.connectionFactory().newConnection(); Channel ch = c.createChannel()) {
            GetResponse r = ch.basicGet(queue, true);
            assertThat(r.getEnvelope().getExchange()).isEmpty();
            assertThat(r.getEnvelope().getRoutingKey()).isEqualTo(queue);
            AMQP.BasicProperties p = r.getProps();
            assertThat(p.getContentType()).isEqualTo("application/json");
            assertThat(p.getContentEncoding()).isEqualTo("utf-8");
            assertThat(p.getDeliveryMode()).isEqualTo(2);
            assertThat(p.getCorrelationId()).isEqualTo(m.id());
            assertThat(p.getPriority()).isEqualTo(6); // Celeriac's 3 (lower first) is RabbitMQ's 9 - 3 (higher first)
            assertThat(Long.parseLong(p.getExpiration())).isBetween(590_000L, 600_000L);
            assertThat(p.getHeaders().get("task").toString()).isEqualTo("add");
            assertThat(p.getHeaders().get("id").toString()).isEqualTo(m.id());
            assertThat(p.getHeaders()).containsKeys("lang", "root_id", "parent_id", "argsrepr", "kwargsrepr", "timelimit", "origin");
            JsonNode body = Json.read(new String(r.getBody(), StandardCharsets.UTF_8));
            assertThat(body.get(0).toString()).isEqualTo("[4,\"ünï 🥬\"]");
            assertThat(body.get(2).has("callbacks")).isTrue();

            // the same message as Python's Celery publishes it comes back to the worker as a task message
            ch.basicPublish("", queue, p, r.getBody());
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> b.size(queue) == 1);
        Delivery d = b.reserve(List.of(queue), 1, Duration.ofSeconds(5)).get(0);
        TaskMessage back = MessageCodec.decode(d.payload());
        assertThat(back.id()).isEqualTo(m.id());
        assertThat(back.task()).isEqualTo("add");
        assertThat(back.args().toString()).isEqualTo("[4,\"ünï 🥬\"]");
        assertThat(back.priority()).isEqualTo(3);
        b.ack(List.of(d));
    }

    @Test
    void itDeclaresWhatCeleryDeclares() throws Exception {
        Broker b = broker();
        b.publish(queue, new BrokerMessage("x", "x", 0, null));
        try (AutoCloseable w = b.control(null).serve("w9@test", (m, a) -> Json.NODES.objectNode().put("ok", "pong"))) {
            b.control(null).call("ping", null, null, List.of("w9@test"), Duration.ofSeconds(5));
            b.events(null).send(Json.NODES.objectNode().put("type", "worker-heartbeat").put("hostname", "w9@test"));
            Map<String, String> exchanges = new HashMap<>();
            for (JsonNode e : Json.read(node.ctl("-q", "--formatter", "json", "list_exchanges", "name", "type", "durable", "auto_delete",
                    "arguments"))) {
                exchanges.put(e.path("name").asText(), e.path("type").asText() + " durable=" + e.path("durable").asBoolean()
                        + " auto_delete=" + e.path("auto_delete").asBoolean() + " arguments=" + e.path("arguments"));
            }
            // docs/RABBITMQ-TOPOLOGY.md §2, as a Celery 5.2 worker lists them
            assertThat(exchanges).containsEntry(queue, "direct durable=true auto_delete=false arguments=[]")
                    .containsEntry("celery.pidbox", "fanout durable=false auto_delete=false arguments=[]")
                    .containsEntry("reply.celery.pidbox", "direct durable=false auto_delete=false arguments=[]")
                    .containsEntry("celeryev", "topic durable=true auto_delete=false arguments=[]");
            boolean found = false;
            for (JsonNode q : Json.read(node.ctl("-q", "--formatter", "json", "list_queues", "name", "durable", "auto_delete", "exclusive",
                    "arguments"))) {
                if (q.path("name").asText().equals(queue)) {
                    found = true;
                    assertThat(q.path("durable").asBoolean()).isTrue();
                    assertThat(q.path("auto_delete").asBoolean()).isFalse();
                    assertThat(q.path("exclusive").asBoolean()).isFalse();
                    assertThat(q.path("arguments")).isEmpty();
                }
            }
            assertThat(found).isTrue();
            assertThat(node.ctl("-q", "list_bindings", "source_name", "destination_name", "routing_key"))
                    .containsPattern("(?m)^" + java.util.regex.Pattern.quote(queue + "\t" + queue + "\t" + queue) + "$");
        }
    }

    @Test
    void aConsumerThatDiesHasItsMessagesDeliveredAgainAtOnceAndCounted() throws Exception {
        Broker dying = broker();
        Broker survivor = broker();
        dying.publish(queue, new BrokerMessage("x", "work", 0, null));
        assertThat(dying.reserve(List.of(queue), 1, Duration.ZERO)).hasSize(1);
        dying.close(); // its channel closes: RabbitMQ requeues at once, not after the 5-minute lease
        long t0 = System.nanoTime();
        List<Delivery> again = survivor.reserve(List.of(queue), 1, Duration.ofSeconds(10));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        assertThat(again).extracting(Delivery::payload).containsExactly("work");
        assertThat(again.get(0).deliveryCount()).isEqualTo(2);
        survivor.requeue(again.get(0));
        assertThat(survivor.reserve(List.of(queue), 1, Duration.ofSeconds(5)).get(0).deliveryCount()).isEqualTo(3);
    }

    @Test
    void aBatchIsTakenWholeInOrderAndItsAcksCoverOnlyWhatWasAcked() throws Exception {
        batchAndAcks(Config.builder(), queue);
        batchAndAcks(Config.builder().set(Settings.TASK_DEFAULT_QUEUE_TYPE, "quorum"), queue + "-quorum");
    }

    /** 40 messages, 30 taken in one reserve, some acked in runs and out of order, the holder closed: the rest come back. */
    private void batchAndAcks(Config.Builder config, String q) throws Exception {
        Broker holder = broker(config);
        Broker other = broker(config);
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            sent.add("m" + i);
            holder.publish(q, new BrokerMessage("m" + i, "m" + i, 0, null));
        }
        List<Delivery> got = holder.reserve(List.of(q), 30, Duration.ZERO);
        assertThat(got).extracting(Delivery::payload).containsExactlyElementsOf(sent.subList(0, 30));
        assertThat(holder.size(q)).isEqualTo(10);
        List<Delivery> acked = new ArrayList<>(got.subList(0, 10)); // the lowest held: one multiple ack
        acked.addAll(got.subList(12, 15)); // past a gap: one by one
        holder.ack(acked);
        holder.ack(got.subList(20, 30)); // a run above what is still held: one by one
        holder.close(); // what it still holds goes back at once
        List<Delivery> back = new ArrayList<>();
        for (List<Delivery> ds; !(ds = other.reserve(List.of(q), 100, Duration.ofMillis(500))).isEmpty(); ) {
            back.addAll(ds);
            other.ack(ds);
        }
        List<String> expected = new ArrayList<>(List.of("m10", "m11", "m15", "m16", "m17", "m18", "m19"));
        expected.addAll(sent.subList(30, 40));
        assertThat(back).extracting(Delivery::payload).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(back).filteredOn(d -> expected.indexOf(d.payload()) < 7).allSatisfy(d -> assertThat(d.deliveryCount()).isEqualTo(2));
        assertThat(other.size(q)).isZero();
    }

    /**
     * A backlog is taken through one consumer that stays open between reserves (prefetch: twice what the
     * first reserve asked), so later reserves take what RabbitMQ pushed meanwhile, never more than
     * asked; when its broker closes, all it held or buffered comes back: none lost, and none seen twice
     * but those it was sent and did not ack (at most its prefetch).
     */
    @Test
    void aBacklogIsStreamedThroughOneConsumerAndWhatItBufferedComesBackWhenItCloses() throws Exception {
        Broker holder = broker();
        Broker other = broker();
        List<String> sent = publish(100);
        List<Delivery> first = holder.reserve(List.of(queue), 8, Duration.ZERO);
        assertThat(first).hasSizeLessThanOrEqualTo(8)
                .extracting(Delivery::payload).containsExactlyElementsOf(sent.subList(0, first.size()));
        assertThat(node.ctl("-q", "list_consumers", "queue_name", "prefetch_count"))
                .containsPattern("(?m)^" + java.util.regex.Pattern.quote(queue) + "\t" + 8 * RabbitBroker.STREAM_WINDOW + "$");
        List<String> acked = new ArrayList<>(payloads(first));
        holder.ack(first);
        for (int i = 0; i < 3; i++) {
            List<Delivery> ds = holder.reserve(List.of(queue), 8, Duration.ofSeconds(5));
            assertThat(ds).hasSizeLessThanOrEqualTo(8);
            acked.addAll(payloads(ds));
            holder.ack(ds);
        }
        assertThat(acked).containsExactlyElementsOf(sent.subList(0, acked.size())); // in order across reserves
        List<Delivery> held = holder.reserve(List.of(queue), 4, Duration.ofSeconds(5)); // not acked
        assertThat(held).isNotEmpty();
        holder.close();
        List<Delivery> back = drainAll(other);
        List<String> all = new ArrayList<>(acked);
        all.addAll(payloads(back));
        assertThat(all).containsExactlyInAnyOrderElementsOf(sent);
        assertThat(back).extracting(Delivery::payload).containsAll(payloads(held));
        // seen twice: what it was sent and had not acked, at most its prefetch and the one basic.get
        assertThat(back).filteredOn(d -> d.deliveryCount() > 1).hasSizeLessThanOrEqualTo(8 * RabbitBroker.STREAM_WINDOW + 1);
    }

    /**
     * After the node restarts, the consumer that streamed is opened anew and what it buffered or
     * held before is forgotten (RabbitMQ gives it again): an ack of a delivery taken before the
     * outage acks nothing on the new channel, so nothing is lost.
     */
    @Test
    void aStreamIsOpenedAnewAfterTheNodeRestartsAndWhatItHadBeforeComesAgain() throws Exception {
        Broker b = broker();
        List<String> sent = publish(50);
        List<Delivery> before = b.reserve(List.of(queue), 8, Duration.ZERO);
        assertThat(before).isNotEmpty();
        node.stop();
        node.start();
        List<Delivery> got = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
            try {
                got.addAll(b.reserve(List.of(queue), 8, Duration.ZERO));
                return !got.isEmpty();
            } catch (BrokerException stillDown) {
                return false;
            }
        });
        b.ack(before); // void: their channel is gone
        assertThat(node.ctl("-q", "list_consumers", "queue_name")).contains(queue);
        b.ack(got);
        got.addAll(drainAll(b));
        assertThat(got).extracting(Delivery::payload).containsExactlyInAnyOrderElementsOf(sent);
        assertThat(b.size(queue)).isZero();
    }

    private List<String> publish(int n) {
        Broker p = broker();
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            sent.add("m" + i);
            p.publish(queue, new BrokerMessage("m" + i, "m" + i, 0, null));
        }
        return sent;
    }

    /** Reserves and acks until the queue stays empty for half a second. */
    private List<Delivery> drainAll(Broker b) throws InterruptedException {
        List<Delivery> out = new ArrayList<>();
        for (List<Delivery> ds; !(ds = b.reserve(List.of(queue), 100, Duration.ofMillis(500))).isEmpty(); ) {
            out.addAll(ds);
            b.ack(ds);
        }
        return out;
    }

    private static List<String> payloads(List<Delivery> ds) {
        return ds.stream().map(Delivery::payload).toList();
    }

    @Test
    void aQueueThatExistsWithOtherArgumentsIsUsedAsItIs() throws Exception {
        try (Connection c = node.connectionFactory().newConnection(); Channel ch = c.createChannel()) {
            ch.queueDeclare(queue, true, false, false, null); // as a default Python worker declares "celery"
        }
        Broker b = broker(Config.builder().set(Settings.TASK_QUEUE_MAX_PRIORITY, 10));
        b.publish(queue, new BrokerMessage("a", "a", 0, null));
        assertThat(b.reserve(List.of(queue), 1, Duration.ofSeconds(5))).extracting(Delivery::payload).containsExactly("a");
    }

    @Test
    void quorumQueuesAreAnOption() throws Exception {
        Broker b = broker(Config.builder().set(Settings.TASK_DEFAULT_QUEUE_TYPE, "quorum"));
        b.publish(queue, new BrokerMessage("q", "q", 0, null));
        assertThat(node.ctl("-q", "list_queues", "name", "type")).containsPattern(queue + "\\s+quorum");
        Delivery d = b.reserve(List.of(queue), 1, Duration.ofSeconds(5)).get(0);
        b.requeue(d);
        Delivery again = b.reserve(List.of(queue), 1, Duration.ofSeconds(5)).get(0);
        assertThat(again.payload()).isEqualTo("q");
        assertThat(again.deliveryCount()).isEqualTo(2);
        assertThatThrownBy(() -> broker(Config.builder().set(Settings.TASK_DEFAULT_QUEUE_TYPE, "quorum")
                .set(Settings.TASK_QUEUE_MAX_PRIORITY, 5))).isInstanceOf(ConfigException.class).hasMessageContaining("quorum");
    }

    @Test
    void withoutACoordinationStoreAnEtaIsAConfigurationErrorInOneLine() {
        Broker b = Backends.openBroker(Config.builder().set(Settings.BROKER_URL, node.url()).build());
        opened.add(b);
        assertThatThrownBy(() -> b.publish(queue, new BrokerMessage("e", "e", 0, Instant.now().plusSeconds(60))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("result_backend or coordination_url")
                .hasMessageNotContaining("\n").hasMessageNotContaining("guest:guest");
        assertThatThrownBy(() -> Backends.openCoordination(Config.builder().set(Settings.BROKER_URL, node.url()).build()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("keeps queues only");
    }

    @Test
    void aPublishWhileTheNodeIsDownFailsRecoverablyAndNothingAcceptedIsLost() throws Exception {
        Broker b = broker();
        for (int i = 0; i < 5; i++) {
            b.publish(queue, new BrokerMessage("m" + i, "m" + i, 0, null));
        }
        node.stop();
        try {
            assertThatThrownBy(() -> b.publish(queue, new BrokerMessage("x", "x", 0, null)))
                    .isInstanceOfSatisfying(BrokerException.class, e -> assertThat(e.recoverable()).isTrue());
            assertThatThrownBy(() -> b.reserve(List.of(queue), 1, Duration.ZERO)).isInstanceOf(BrokerException.class);
        } finally {
            node.start();
        }
        // the client reconnects by itself (back-off) and the durable queue kept its persistent messages
        List<String> got = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
            try {
                List<Delivery> ds = b.reserve(List.of(queue), 10, Duration.ZERO);
                ds.forEach(d -> got.add(d.payload()));
                b.ack(ds);
            } catch (BrokerException stillDown) {
                return false;
            }
            return got.size() == 5;
        });
        assertThat(got).containsExactly("m0", "m1", "m2", "m3", "m4");
    }

    @Test
    void urlsAreReadAsKombuReadsThem() {
        AmqpUrl u = AmqpUrl.parse("amqp://user:p%40ss@rabbit.example:5673/prod");
        assertThat(u.user).isEqualTo("user");
        assertThat(u.password).isEqualTo("p@ss");
        assertThat(u.vhost).isEqualTo("prod");
        assertThat(u.port).isEqualTo(5673);
        assertThat(u.describe()).doesNotContain("p%40ss").doesNotContain("p@ss");
        assertThat(AmqpUrl.parse("amqp://guest:guest@localhost//").vhost).isEqualTo("/");
        assertThat(AmqpUrl.parse("pyamqp://localhost").vhost).isEqualTo("/");
        assertThat(AmqpUrl.parse("amqps://h/%2F").port).isEqualTo(5671);
        assertThat(AmqpUrl.parse("amqps://h/").tls).isTrue();
        assertThatThrownBy(() -> AmqpUrl.parse("amqp://h/?ssl_ca_certs=/x")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("amqps");
        assertThatThrownBy(() -> AmqpUrl.parse("amqps://h/?ssl_ca_certs=/no/such/ca.pem").factory())
                .isInstanceOf(ConfigException.class).hasMessageContaining("cannot be read");
    }
}
