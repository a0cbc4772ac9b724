package io.celeriac.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.CeleriacApp;
import io.celeriac.MessageTooLargeException;
import io.celeriac.TaskFailedException;
import io.celeriac.TaskRegistry;
import io.celeriac.Tasks;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Delivery;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Sizes and malformed messages, end to end through a real worker on a real broker: what
 * {@code task_payload_max_bytes} lets through works (a 10 MiB argument and its 10 MiB result),
 * what it does not is refused at send or stored as a FAILURE naming it, and a malformed message
 * whose id can be read gets a FAILURE under that id (as Celery and kombu name the reason) besides
 * its dead-letter record. A broker module subclasses it once, supplying the URL and a worker.
 */
@Tag("integration")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
public abstract class PayloadConformanceTest {
    protected static final Duration WAIT = Duration.ofSeconds(120);
    protected static final int MIB = 1024 * 1024;

    /** The broker (and result store) URL the tests share. */
    protected abstract String url();

    /** Starts a worker with {@code config} (its app is {@link App}); closing it stops the worker. */
    protected abstract AutoCloseable startWorker(Config config, TaskRegistry tasks) throws Exception;

    /** What a subclass adds to the worker's and client's settings (the process pool, say). */
    protected Config.Builder configure(Config.Builder b) {
        return b;
    }

    /** The suite's tasks, loadable by name (a process-pool child loads them with the {@code app} setting). */
    public static final class App implements CeleriacApp {
        @Override
        public void register(TaskRegistry tasks) {
            tasks.register(Tasks.task("payload.echo", String.class, s -> s).params("s"));
            tasks.register(Tasks.task("payload.grow", long.class, n -> "x".repeat(n.intValue())).params("n"));
        }
    }

    private final String queue = "payload-" + UUID.randomUUID();
    private final String deadLetters = "payload-dlq-" + UUID.randomUUID();
    private final List<AutoCloseable> opened = new ArrayList<>();
    protected Celeriac app;

    /** A worker and a client on the suite's queue, with {@code extra} settings on both. */
    protected Celeriac start(UnaryOperator<Config.Builder> extra) throws Exception {
        Config config = extra.apply(configure(Config.builder()
                .set(Settings.BROKER_URL, url())
                .set(Settings.APP, App.class.getName())
                .set(Settings.TASK_DEFAULT_QUEUE, queue)
                .set(Settings.TASK_DEAD_LETTER_QUEUE, deadLetters)
                .set(Settings.WORKER_QUEUES, List.of(queue))
                .set(Settings.WORKER_CONCURRENCY, 2)
                .set(Settings.WORKER_PREFETCH_MULTIPLIER, 1)
                .set(Settings.WORKER_POOL, "threads")
                .set(Settings.WORKER_HEARTBEAT_INTERVAL, Duration.ofMillis(200))
                .set(Settings.WORKER_HOSTNAME, "payload-" + UUID.randomUUID().toString().substring(0, 8) + "@test"))).build();
        TaskRegistry tasks = new TaskRegistry();
        new App().register(tasks);
        opened.add(startWorker(config, tasks));
        app = Celeriac.open(config, tasks);
        opened.add(app);
        return app;
    }

    @AfterEach
    void stopIt() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
        opened.clear();
    }

    // --- sizes -------------------------------------------------------------------------------

    @Test
    void aFifteenMebibyteArgumentIsRefusedAtSendNamingTheLimitAndTheSize() throws Exception {
        start(b -> b);
        String big = "a".repeat(15 * MIB);
        assertThatThrownBy(() -> app.send("payload.echo", big))
                .isInstanceOfSatisfying(MessageTooLargeException.class, e -> assertThat(e.getMessage())
                        .contains("payload.echo").contains("task_payload_max_bytes").contains("15.0 MiB")
                        .contains("12.0 MiB (12582912 bytes)"));
        assertThat(app.broker().size(queue)).as("nothing was sent").isZero();
    }

    @Test
    void aTenMebibyteArgumentRunsEndToEndAndItsTenMebibyteResultComesBack() throws Exception {
        start(b -> b);
        String big = "b".repeat(10 * MIB - 1) + "!";
        AsyncResult r = app.send("payload.echo", big);
        JsonNode value = r.get(WAIT);
        assertThat(value.isTextual()).isTrue();
        assertThat(value.asText().length()).isEqualTo(10 * MIB);
        assertThat(value.asText()).isEqualTo(big);
    }

    @Test
    void aResultOverTheLimitEndsFailureNamingTheLimit() throws Exception {
        start(b -> b);
        AsyncResult r = app.send("payload.grow", 12L * MIB + 1);
        assertThatThrownBy(() -> r.get(WAIT)).isInstanceOfSatisfying(TaskFailedException.class, e -> {
            assertThat(e.excType()).isEqualTo("LimitExceeded");
            assertThat(e.excModule()).isEqualTo("kombu.exceptions");
            assertThat(e.excMessage()).contains("result of task 'payload.grow'").contains("task_payload_max_bytes")
                    .contains("12.0 MiB (12582915 bytes)"); // its JSON: the string and its two quotes
        });
    }

    /**
     * A limit raised past what Jackson reads by default (20 M characters in one string): a 16 MiB
     * argument is 22 M characters of base64, its result 16 M characters, both carried.
     */
    @Test
    void aRaisedLimitCarriesPayloadsPastJacksonsDefaultStringLimit() throws Exception {
        start(b -> b.set(Settings.TASK_PAYLOAD_MAX_BYTES, 32 * MIB));
        String big = "c".repeat(16 * MIB);
        JsonNode value = app.send("payload.echo", big).get(WAIT);
        assertThat(value.asText()).isEqualTo(big);
        JsonNode grown = app.send("payload.grow", 21_000_000L).get(WAIT);
        assertThat(grown.asText().length()).isEqualTo(21_000_000);
    }

    // --- malformed messages with a readable id -------------------------------------------------

    /** A valid envelope for {@code payload.echo("hi")}, as a JSON object to spoil. */
    private ObjectNode envelope(String id) throws Exception {
        ArrayNode args = Json.NODES.arrayNode().add("hi");
        TaskMessage m = TaskMessage.builder("payload.echo").id(id).args(args).queue(queue).build();
        return (ObjectNode) Json.read(MessageCodec.encode(m));
    }

    private void publishRaw(String id, ObjectNode envelope) {
        app.broker().publish(queue, new BrokerMessage(id, Json.write(envelope), 0, null));
    }

    /** The FAILURE the message's sender reads, and the dead-letter record under the same id. */
    private TaskFailedException failureOf(String id, String excType, String reason) throws Exception {
        TaskFailedException[] caught = new TaskFailedException[1];
        assertThatThrownBy(() -> app.result(id).get(WAIT)).isInstanceOfSatisfying(TaskFailedException.class, e -> {
            assertThat(e.excType()).isEqualTo(excType);
            assertThat(e.excMessage()).contains(reason);
            caught[0] = e;
        });
        List<Delivery> ds = app.broker().reserve(List.of(deadLetters), 10, Duration.ofSeconds(30));
        assertThat(ds).hasSize(1);
        JsonNode rec = Json.read(ds.get(0).payload());
        assertThat(rec.path("id").asText()).isEqualTo(id);
        assertThat(rec.path("reason").asText()).contains(reason);
        app.broker().ack(ds);
        return caught[0];
    }

    private static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aPickleMessageGetsFailureContentDisallowedUnderItsId() throws Exception {
        start(b -> b);
        String id = UUID.randomUUID().toString();
        ObjectNode env = envelope(id);
        env.put("content-type", "application/x-python-serialize");
        env.put("body", base64("\u0080\u0004\u0095 pickled (((tuple"));
        publishRaw(id, env);
        TaskFailedException e = failureOf(id, "ContentDisallowed", "application/x-python-serialize");
        assertThat(e.excModule()).isEqualTo("kombu.exceptions");
    }

    @Test
    void aBodyThatIsNotBase64GetsFailureDecodeErrorUnderItsId() throws Exception {
        start(b -> b);
        String id = UUID.randomUUID().toString();
        ObjectNode env = envelope(id);
        env.put("body", "this is *not* base64 %%%");
        publishRaw(id, env);
        assertThat(failureOf(id, "DecodeError", "is not valid base64").excModule()).isEqualTo("kombu.exceptions");
    }

    @Test
    void aBodyThatIsNotJsonGetsFailureDecodeErrorUnderItsId() throws Exception {
        start(b -> b);
        String id = UUID.randomUUID().toString();
        ObjectNode env = envelope(id);
        env.put("body", base64("[[\"hi\"], {}, {"));
        publishRaw(id, env);
        failureOf(id, "DecodeError", "is not JSON");
    }

    @Test
    void aBadEtaGetsFailureValueErrorUnderItsId() throws Exception {
        start(b -> b);
        String id = UUID.randomUUID().toString();
        ObjectNode env = envelope(id);
        ((ObjectNode) env.get("headers")).put("eta", "next tuesday");
        publishRaw(id, env);
        assertThat(failureOf(id, "ValueError", "header 'eta'").excModule()).isEqualTo("builtins");
    }

    @Test
    void aBodyOverTheWorkersLimitGetsFailureLimitExceededUnderItsId() throws Exception {
        start(b -> b.set(Settings.TASK_PAYLOAD_MAX_BYTES, 4096)); // a producer that does not check (Python's)
        String id = UUID.randomUUID().toString();
        ObjectNode env = envelope(id);
        env.put("body", base64("[[\"" + "d".repeat(8192) + "\"], {}, {}]"));
        publishRaw(id, env);
        failureOf(id, "LimitExceeded", "task_payload_max_bytes");
    }
}
