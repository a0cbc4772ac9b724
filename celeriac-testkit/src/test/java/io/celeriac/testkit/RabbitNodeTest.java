package io.celeriac.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A private RabbitMQ node: starts, carries a message, keeps a durable queue's persistent message over a restart, stops. */
@Tag("integration")
@Timeout(300)
class RabbitNodeTest {

    @Test
    void startsCarriesMessagesKeepsDurableOnesOverARestartAndStops() throws Exception {
        try (RabbitNode node = RabbitNode.launch()) {
            System.out.println("RabbitNode " + node.nodeName() + " first start: " + node.lastStartMillis() + " ms");
            assertThat(node.port()).isNotEqualTo(5672);
            assertThat(node.url()).isEqualTo("amqp://guest:guest@127.0.0.1:" + node.port() + "//");

            try (Connection c = node.connectionFactory().newConnection(); Channel ch = c.createChannel()) {
                ch.queueDeclare("plain", false, false, false, null);
                ch.basicPublish("", "plain", null, "hello".getBytes(StandardCharsets.UTF_8));
                ch.queueDeclare("kept", true, false, false, Map.of());
                ch.confirmSelect();
                ch.basicPublish("", "kept", MessageProperties.PERSISTENT_TEXT_PLAIN, "survives".getBytes(StandardCharsets.UTF_8));
                ch.waitForConfirmsOrDie(10_000);
                GetResponse got = awaitGet(ch, "plain");
                assertThat(new String(got.getBody(), StandardCharsets.UTF_8)).isEqualTo("hello");
                ch.basicAck(got.getEnvelope().getDeliveryTag(), false);
            }
            assertThat(node.ctl("-q", "list_queues", "name", "durable", "messages"))
                    .contains("kept\ttrue\t1").contains("plain\tfalse\t0");

            node.restart();
            System.out.println("RabbitNode " + node.nodeName() + " restart: " + node.lastStartMillis() + " ms");
            try (Connection c = node.connectionFactory().newConnection(); Channel ch = c.createChannel()) {
                GetResponse got = awaitGet(ch, "kept");
                assertThat(new String(got.getBody(), StandardCharsets.UTF_8)).isEqualTo("survives");
                AMQP.BasicProperties props = got.getProps();
                assertThat(props.getDeliveryMode()).isEqualTo(2);
                ch.basicAck(got.getEnvelope().getDeliveryTag(), false);
            }
            assertThat(node.ctl("-q", "list_queues", "name")).contains("kept").doesNotContain("plain");

            node.kill();
            node.start();
            System.out.println("RabbitNode " + node.nodeName() + " start after SIGKILL: " + node.lastStartMillis() + " ms");
            assertThat(node.ctl("-q", "list_queues", "name")).contains("kept");
        }
    }

    private static GetResponse awaitGet(Channel ch, String queue) throws Exception {
        for (int i = 0; i < 100; i++) {
            GetResponse r = ch.basicGet(queue, false);
            if (r != null) {
                return r;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no message in " + queue);
    }
}
