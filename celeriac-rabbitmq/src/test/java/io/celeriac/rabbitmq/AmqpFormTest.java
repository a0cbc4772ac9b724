package io.celeriac.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.impl.LongStringHelper;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.BrokerMessage;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The kombu envelope a delivery is given to the worker as (pure logic: no broker). */
class AmqpFormTest {

    @Test
    void everyKindOfHeaderValueIsWrittenAsJsonHasIt() throws Exception {
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("n", 3);
        nested.put("s", LongStringHelper.asLongString("ünï"));
        Map<String, Object> headers = new LinkedHashMap<>();
        headers.put("task", LongStringHelper.asLongString("tasks.add"));
        headers.put("id", "0f7b1c2e-1111-4222-8333-444455556666");
        headers.put("retries", 2);
        headers.put("big", 1L << 40);
        headers.put("flag", true);
        headers.put("none", null);
        headers.put("ratio", 0.5d);
        headers.put("price", new BigDecimal("12.25"));
        headers.put("list", List.of(1, LongStringHelper.asLongString("a"), List.of()));
        headers.put("map", nested);
        headers.put("at", new Date(0));
        headers.put("bytes", new byte[] {1, 2, 3});
        headers.put("x-celeriac-redeliveries", 4);
        AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().contentType("application/json").contentEncoding("utf-8")
                .correlationId("c-1").replyTo("r-1").deliveryMode(2).priority(7).headers(headers).build();
        byte[] body = "[[1, 2], {}, {}]".getBytes(StandardCharsets.UTF_8);

        JsonNode env = Json.read(AmqpForm.toEnvelope("celery", "celery", props, body));

        assertThat(Base64.getDecoder().decode(env.get("body").asText())).isEqualTo(body);
        assertThat(env.get("content-type").asText()).isEqualTo("application/json");
        JsonNode h = env.get("headers");
        assertThat(h.get("task").asText()).isEqualTo("tasks.add");
        assertThat(h.get("retries").asInt()).isEqualTo(2);
        assertThat(h.get("big").asLong()).isEqualTo(1L << 40);
        assertThat(h.get("flag").asBoolean()).isTrue();
        assertThat(h.get("none").isNull()).isTrue();
        assertThat(h.get("ratio").asDouble()).isEqualTo(0.5d);
        assertThat(h.get("price").decimalValue()).isEqualByComparingTo("12.25");
        assertThat(h.get("list").toString()).isEqualTo("[1,\"a\",[]]");
        assertThat(h.get("map").toString()).isEqualTo("{\"n\":3,\"s\":\"ünï\"}");
        assertThat(h.get("at").asText()).startsWith("1970-01-01T00:00:00");
        assertThat(h.get("bytes").asText()).isEqualTo("AQID");
        assertThat(h.has("x-celeriac-redeliveries")).isFalse();
        JsonNode p = env.get("properties");
        assertThat(p.get("correlation_id").asText()).isEqualTo("c-1");
        assertThat(p.get("reply_to").asText()).isEqualTo("r-1");
        assertThat(p.get("priority").asInt()).isEqualTo(2); // RabbitMQ's 7 is Celeriac's 9 - 7
        assertThat(p.get("delivery_info").get("routing_key").asText()).isEqualTo("celery");
        assertThat(p.get("body_encoding").asText()).isEqualTo("base64");
    }

    @Test
    void aMessageTravelsToAmqpAndBackAsTheWorkerReadsIt() {
        BrokerMessage sent = new BrokerMessage("id-1", MessageCodec.encode(TaskMessage.builder("tasks.add").id("id-1")
                .args(Json.NODES.arrayNode().add(2).add("ß")).build()), 0, null);
        AmqpForm.Out out = AmqpForm.toAmqp(sent, System.currentTimeMillis());

        TaskMessage back = MessageCodec.decode(AmqpForm.toEnvelope("", "celery", out.props(), out.body()));

        assertThat(back.id()).isEqualTo("id-1");
        assertThat(back.task()).isEqualTo("tasks.add");
        assertThat(back.args().toString()).isEqualTo("[2,\"ß\"]");
    }

    @Test
    void deliveryTagsAreRandomVersionFourUuids() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            UUID u = UUID.fromString(AmqpForm.deliveryTag());
            assertThat(u.version()).isEqualTo(4);
            assertThat(u.variant()).isEqualTo(2);
            seen.add(u.toString());
        }
        assertThat(seen).hasSize(1000);
    }
}
