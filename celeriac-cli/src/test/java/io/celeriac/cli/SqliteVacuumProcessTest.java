package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.testkit.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A burst of big tasks drained by a real worker process: the embedded broker's file gives the space back. */
@Tag("integration")
@Timeout(600)
class SqliteVacuumProcessTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();

    private static long onDisk(Path file) throws Exception {
        Path wal = Path.of(file + "-wal");
        return Files.size(file) + (Files.exists(wal) ? Files.size(wal) : 0);
    }

    @Test
    void twoHundredOneMibTasksDrainedByAWorkerAndTheFileShrinksWellUnderItsPeak() throws Exception {
        Path file = dir.resolve("burst.db");
        String url = "sqlite:" + file;
        String mib = "x".repeat(1 << 20);
        Config config = Config.builder().set(Settings.BROKER_URL, url).build();
        try (Celeriac client = Celeriac.open(config, new TaskRegistry())) {
            List<AsyncResult> sent = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                sent.add(client.send("sink", mib + i));
            }
            long peak = onDisk(file);
            assertThat(peak).as("200 MiB of messages").isGreaterThan(200L << 20);
            ChildJvm worker = processes.worker(dir, url, "drain@test", "--app", BigArgsApp.class.getName(), "--pool", "threads");
            for (AsyncResult r : sent) {
                assertThat(r.get(Duration.ofSeconds(300))).as(worker.output()).isNotNull();
            }
            assertThat(client.broker().size("celery")).isZero();
            long drainedAt = System.nanoTime();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                    .untilAsserted(() -> assertThat(onDisk(file)).as("db + WAL after the drain (peak %d bytes)", peak)
                            .isLessThan(peak / 20));
            System.out.printf("file at its peak %.1f MiB, %.1f MiB %.1f s after the drain%n", peak / 1048576.0,
                    onDisk(file) / 1048576.0, (System.nanoTime() - drainedAt) / 1e9);
            // the worker goes on with the smaller file
            assertThat(client.send("sink", "small").get(Duration.ofSeconds(60))).isNotNull();
        }
    }
}
