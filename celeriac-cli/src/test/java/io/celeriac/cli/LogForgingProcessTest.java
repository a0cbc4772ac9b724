package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Celeriac;
import io.celeriac.TaskFailedException;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.testkit.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hostile producer publishes messages whose task name and id carry a newline and a whole fake
 * log line; the real worker process's log file shows them escaped, on the line they belong to,
 * and no fake line.
 */
@Tag("integration")
@Timeout(180)
class LogForgingProcessTest {
    private static final String FAKE = "[2026-01-01 00:00:00,000: WARNING/MainThread] worker: FORGED";

    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();

    @Test
    void aNewlineInATaskNameOrIdWritesNoFakeLineIntoTheWorkerLog() throws Exception {
        String url = "sqlite:" + dir.resolve("forge.db");
        ChildJvm worker = processes.worker(dir, url, "forge");
        Path log = dir.resolve("forge-0.log");
        Config config = Config.builder().set(Settings.BROKER_URL, url).build();
        try (Celeriac client = Celeriac.open(config, new TaskRegistry())) {
            String nameId = UUID.randomUUID().toString();
            String forgedId = UUID.randomUUID() + "\n" + FAKE + " id\r\n";
            // raw, as a producer that does not check: an unknown task with a forged name, a known one with a forged id
            publish(client, nameId, "noop\n" + FAKE + " name\n", null);
            publish(client, forgedId, "add", "not an eta");
            assertThatThrownBy(() -> client.result(nameId).get(Duration.ofSeconds(120)))
                    .isInstanceOfSatisfying(TaskFailedException.class, e -> assertThat(e.excType()).isEqualTo("NotRegistered"));
            assertThatThrownBy(() -> client.result(forgedId).get(Duration.ofSeconds(60)))
                    .isInstanceOfSatisfying(TaskFailedException.class, e -> assertThat(e.excType()).isEqualTo("ValueError"));
        }
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> Files.readString(log).lines().filter(l -> l.contains("dead-letter")).count() >= 2);
        List<String> lines = Files.readAllLines(log);
        assertThat(lines).as(worker.output()).noneMatch(l -> l.startsWith(FAKE) || l.startsWith("[2026-01-01"));
        assertThat(lines).anyMatch(l -> l.contains("noop\\n" + FAKE + " name\\n") && l.contains("dead-letter"));
        assertThat(lines).anyMatch(l -> l.contains("\\n" + FAKE + " id\\r\\n") && l.contains("dead-letter"));
    }

    private static void publish(Celeriac client, String id, String task, String eta) throws Exception {
        TaskMessage m = TaskMessage.builder("add").id(UUID.randomUUID().toString())
                .args(Json.NODES.arrayNode().add(1).add(2)).build();
        ObjectNode env = (ObjectNode) Json.read(MessageCodec.encode(m));
        ObjectNode h = (ObjectNode) env.get("headers");
        h.put("id", id);
        h.put("task", task);
        if (eta != null) {
            h.put("eta", eta);
        }
        ((ObjectNode) env.get("properties")).put("correlation_id", id);
        client.broker().publish("celery", new BrokerMessage(id, Json.write(env), 0, null));
    }
}
