package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.testkit.ChildJvm;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded broker on a real full disk (a small tmpfs mounted for the test): the worker says so
 * once and once when it is over, and {@code celeriac call} fails with one line.
 */
@Tag("chaos")
@Timeout(300)
class FullDiskProcessTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();

    private Path disk;
    private boolean mounted;

    private static int run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().transferTo(OutputStream.nullOutputStream());
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }

    @BeforeEach
    void mount() throws Exception {
        disk = Files.createDirectory(dir.resolve("disk"));
        mounted = run("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", disk.toString()) == 0;
        assumeTrue(mounted, "needs root to mount a small tmpfs");
    }

    @AfterEach
    void unmount() throws Exception {
        processes.afterEach(null); // the worker holds files on it
        if (mounted) {
            run("umount", "-l", disk.toString());
        }
    }

    /** Fills the disk but {@code leave} bytes. */
    private Path fill(String name, long leave) throws IOException {
        Path f = disk.resolve(name);
        byte[] block = new byte[4096];
        try (OutputStream out = Files.newOutputStream(f)) {
            while (Files.getFileStore(disk).getUsableSpace() > leave + block.length) {
                out.write(block);
                out.flush();
            }
            if (leave == 0) {
                while (true) {
                    out.write(block, 0, 512);
                    out.flush();
                }
            }
        } catch (IOException full) {
            if (leave > 0) {
                throw full;
            }
        }
        return f;
    }

    private static long count(String log, String what) {
        return log.lines().filter(l -> l.contains(what)).count();
    }

    @Test
    void oneOutageLineWhileTheDiskStaysFullOneRecoveryLineAfterAndCallFailsWithOneLine() throws Exception {
        String url = "sqlite:" + disk.resolve("full.db");
        try (Celeriac client = Celeriac.open(Config.builder().set(Settings.BROKER_URL, url).build(), new TaskRegistry())) {
            ChildJvm worker = processes.worker(dir, url, "full@test", "--app", BigArgsApp.class.getName(), "--pool", "threads");
            await().atMost(Duration.ofSeconds(60)).until(() -> client.coordination().nodes().containsKey("full@test"));
            assertThat(client.send("blow", 10).get(Duration.ofSeconds(60)).asText()).isEqualTo("y".repeat(10));

            // nearly full: small writes (heartbeats) still fit, a 2 MiB result does not
            Path nearly = fill("nearly", 384 << 10);
            AsyncResult big = client.send("blow", 2 << 20);
            await().atMost(Duration.ofSeconds(60)).until(() -> count(worker.output(), "the disk is full") >= 1);
            // it stays full for a while: still one line, however often the parts retry
            await().during(Duration.ofSeconds(12)).atMost(Duration.ofSeconds(20))
                    .until(() -> count(worker.output(), "the disk is full") == 1 && count(worker.output(), "reachable again") == 0);

            // and quite full: a client's call fails at once (at its send, or when it opens the file), with one line
            Path rest = fill("rest", 0);
            // a message of 1 MB: SQLite writes into room its WAL file already holds (the frames of the
            // transactions that failed), a few hundred KiB here, so a small message may still fit there;
            // this one cannot, on a disk of 8 MiB whose 7.8 are taken by "nearly"
            List<String> cmd = new java.util.ArrayList<>(List.of("call", "sink"));
            for (int i = 0; i < 10; i++) {
                cmd.add("x".repeat(100_000)); // sink reads the first; a command-line argument holds at most 128 KiB
            }
            cmd.addAll(List.of("--broker", url, "--app", BigArgsApp.class.getName()));
            ChildJvm call = processes.start(dir.resolve("call.log"), cmd);
            assertThat(call.waitFor(60)).isTrue();
            assertThat(call.exitCode()).as(call.output()).isNotZero();
            assertThat(call.output().strip().lines().toList()).as(call.output()).hasSize(1)
                    .allSatisfy(l -> assertThat(l).startsWith("celeriac: ").contains("the disk is full"));

            Files.delete(rest);
            Files.delete(nearly);
            assertThat(big.get(Duration.ofSeconds(60)).asText()).hasSize(2 << 20);
            await().atMost(Duration.ofSeconds(30)).until(() -> count(worker.output(), "reachable again") == 1);
            assertThat(client.send("blow", 3).get(Duration.ofSeconds(60)).asText()).isEqualTo("yyy");
            String log = worker.output();
            System.out.println("--- worker on a full disk:\n" + log.lines().filter(l -> l.contains("WARN")).reduce("", (a, b) -> a + b + "\n"));
            assertThat(count(log, "the disk is full")).as(log).isEqualTo(1);
            assertThat(count(log, "reachable again")).as(log).isEqualTo(1);
        }
    }
}
