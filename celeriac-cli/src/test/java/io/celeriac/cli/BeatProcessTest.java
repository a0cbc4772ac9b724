package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.Delivery;
import io.celeriac.testkit.ChildJvm;
import io.celeriac.testkit.PostgresServer;
import io.celeriac.testkit.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Two real beat processes on one broker; the leader is killed with SIGKILL. */
@Tag("chaos")
@Timeout(180)
class BeatProcessTest {
    @TempDir
    Path dir;

    private final List<ChildJvm> children = new ArrayList<>();
    private final List<AutoCloseable> servers = new ArrayList<>();

    @AfterEach
    void kill() throws Exception {
        children.forEach(ChildJvm::close);
        for (AutoCloseable s : servers) {
            s.close();
        }
    }

    private <S extends AutoCloseable> S server(S s) {
        servers.add(s);
        return s;
    }

    private String url() {
        return "sqlite:" + dir.resolve("beat.db");
    }

    private Path config() throws Exception {
        return Files.writeString(dir.resolve("celeriac.yaml"), String.join("\n",
                "broker_url: " + url(),
                "health_check_interval: 0",
                "beat_lock_timeout: 2s",
                "beat_schedule:",
                "  every-3s:",
                "    task: noop",
                "    schedule: 3s",
                ""));
    }

    private ChildJvm beat(String name, Path config) throws Exception {
        ChildJvm c = ChildJvm.start(Main.class.getName(), List.of("beat", "--config", config.toString(), "-n", name,
                "--loglevel", "INFO"), Map.of(), dir.resolve(name + ".log"));
        children.add(c);
        return c;
    }

    private List<Instant> allSlots(Celeriac client) throws InterruptedException {
        List<Instant> out = new ArrayList<>();
        List<Delivery> ds = client.broker().reserve(List.of("celery"), 10_000, Duration.ZERO);
        for (Delivery d : ds) {
            out.add(CeleryTime.parse(MessageCodec.decode(d.payload()).header("beat_slot").asText()));
        }
        for (Delivery d : ds) {
            client.broker().requeue(d);
        }
        out.sort(null);
        return out;
    }

    @Test
    void killNineTheLeaderAndTheOtherTakesOverWithinTheLeaseWithNoDuplicateAndNoSkippedSlot() throws Exception {
        Path cfg = config();
        try (Celeriac client = Celeriac.open(Config.builder().set(Settings.BROKER_URL, url()).build(), new TaskRegistry())) {
            ChildJvm a = beat("beat-a", cfg);
            ChildJvm b = beat("beat-b", cfg);
            await().atMost(Duration.ofSeconds(60)).until(() -> allSlots(client).size() >= 3);
            Optional<String> holder = client.coordination().holder("celeriac.beat.leader");
            assertThat(holder).isPresent();
            ChildJvm leader = holder.get().startsWith("beat-a@") ? a : b;
            String survivor = leader == a ? "beat-b@" : "beat-a@";
            leader.kill9();
            long killedAt = System.nanoTime();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                    .until(() -> client.coordination().holder("celeriac.beat.leader").map(h -> h.startsWith(survivor)).orElse(false));
            Duration takeover = Duration.ofNanos(System.nanoTime() - killedAt);
            assertThat(takeover).as("lock lease is 2 s, followers poll every 0.2 s").isLessThan(Duration.ofMillis(2000 + 200 + 1000));
            int before = allSlots(client).size();
            await().atMost(Duration.ofSeconds(30)).until(() -> allSlots(client).size() >= before + 3);
            List<Instant> slots = allSlots(client);
            assertThat(slots).doesNotHaveDuplicates();
            for (int i = 1; i < slots.size(); i++) {
                assertThat(Duration.between(slots.get(i - 1), slots.get(i))).as("slots %s", slots).isEqualTo(Duration.ofSeconds(3));
            }
            System.out.printf("beat takeover after kill -9: %d ms; %d slots, none missed%n", takeover.toMillis(), slots.size());
        }
    }

    /** Beat's messages on queue {@code beats}, by slot (a duplicate would be there twice), left in the queue. */
    static List<Instant> slotsOn(Celeriac client, String queue) throws InterruptedException {
        List<Instant> out = new ArrayList<>();
        List<Delivery> ds = client.broker().reserve(List.of(queue), 10_000, Duration.ZERO);
        for (Delivery d : ds) {
            out.add(CeleryTime.parse(MessageCodec.decode(d.payload()).header("beat_slot").asText()));
        }
        for (Delivery d : ds) {
            client.broker().requeue(d);
        }
        out.sort(null);
        return out;
    }

    private CliRun health(Path cfg) {
        return CliRun.of("health", "--config", cfg.toString(), "--no-manager");
    }

    private static String beatLine(CliRun r) {
        return r.out().lines().filter(l -> l.contains(" beat: ")).findFirst().orElse("(no beat line) " + r.out());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "redis", "postgresql"})
    void withTheDefaultLeaseAKilledLeaderIsReplacedWithinTenSecondsAndHealthNamesItUntilThen(String kind) throws Exception {
        String brokerUrl = switch (kind) {
            case "redis" -> server(RedisServer.start(dir.resolve("redis"), false)).url();
            case "postgresql" -> server(PostgresServer.launch()).url();
            default -> url();
        };
        Path cfg = Files.writeString(dir.resolve("default-lease.yaml"), String.join("\n",
                "broker_url: " + brokerUrl,
                "health_check_interval: 0",
                "beat_schedule:", // beat_lock_timeout: the default
                "  every-1s:",
                "    task: noop",
                "    schedule: 1s",
                "    options: {queue: beats}",
                ""));
        try (Celeriac client = Celeriac.open(Config.builder().set(Settings.BROKER_URL, brokerUrl).build(), new TaskRegistry())) {
            // a worker on the default queue, so that health has one to ping; beat's messages wait on 'beats' to be counted
            children.add(ChildJvm.start(Main.class.getName(), List.of("worker", "--config", cfg.toString(), "-n", "w1",
                    "--pool", "threads", "--set", "worker_heartbeat_interval=0.5"), Map.of(), dir.resolve("w1.log")));
            ChildJvm a = beat("beat-a", cfg);
            ChildJvm b = beat("beat-b", cfg);
            await().atMost(Duration.ofSeconds(90)).until(() -> slotsOn(client, "beats").size() >= 3);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> health(cfg).code() == 0);
            String leaderName = client.coordination().holder("celeriac.beat.leader").orElseThrow().replaceAll("/.*", "");
            ChildJvm leader = leaderName.startsWith("beat-a@") ? a : b;
            String survivor = (leader == a ? "beat-b@" : "beat-a@");
            assertThat(beatLine(health(cfg))).startsWith("ok    beat: leader " + leaderName).contains("standby " + survivor);

            leader.kill9();
            Instant killedAt = Instant.now();
            long killedNanos = System.nanoTime();
            // while the dead leader's lock has not run out, health fails and names it
            CliRun stale = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .until(() -> health(cfg), r -> r.code() == 1 && beatLine(r).startsWith("FAIL  beat: leader " + leaderName));
            assertThat(beatLine(stale)).contains("has sent no heartbeat for").contains("still holds the leader lock")
                    .contains("a standby (" + survivor);
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .until(() -> client.coordination().holder("celeriac.beat.leader").map(h -> h.startsWith(survivor)).orElse(false));
            Duration takeover = Duration.ofNanos(System.nanoTime() - killedNanos);
            assertThat(takeover).as("default lease 5 s, standbys look every 0.5 s").isLessThan(Duration.ofSeconds(10));
            // ... and is ok again after the failover, naming the new leader
            CliRun after = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> health(cfg), r -> r.code() == 0);
            assertThat(beatLine(after)).startsWith("ok    beat: leader " + survivor);

            await().atMost(Duration.ofSeconds(30)).until(() -> slotsOn(client, "beats").stream().filter(t -> t.isAfter(killedAt)).count() >= 3);
            List<Instant> slots = slotsOn(client, "beats");
            assertThat(slots).as("one message per slot").doesNotHaveDuplicates();
            Instant firstAfter = slots.stream().filter(t -> t.isAfter(killedAt)).findFirst().orElseThrow();
            assertThat(Duration.between(killedAt, firstAfter)).as("the entry resumes within 10 s of the kill, slots %s", slots)
                    .isLessThan(Duration.ofSeconds(10));
            long skipped = 0;
            for (int i = 1; i < slots.size(); i++) {
                skipped += Duration.between(slots.get(i - 1), slots.get(i)).toSeconds() - 1;
            }
            assertThat(skipped).as("slots skipped in the failover, slots %s", slots).isLessThanOrEqualTo(8);
            System.out.printf(kind + ", default lease: takeover %d ms after kill -9, first slot after it %d ms, %d slots skipped; stale leader: %s%n",
                    takeover.toMillis(), Duration.between(killedAt, firstAfter).toMillis(), skipped, beatLine(stale));
        }
    }

    @Test
    void aLeaderKilledWithNoStandbyIsNamedByHealthAfterItsLeaseRunsOutToo() throws Exception {
        Path cfg = config();
        ChildJvm only = beat("beat-only", cfg);
        try (Celeriac client = Celeriac.open(Config.builder().set(Settings.BROKER_URL, url()).build(), new TaskRegistry())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> client.coordination().holder("celeriac.beat.leader").isPresent());
            String name = client.coordination().holder("celeriac.beat.leader").orElseThrow().replaceAll("/.*", "");
            await().atMost(Duration.ofSeconds(30)).until(() -> client.coordination().nodes().containsKey(name)); // its first heartbeat
            only.kill9();
            await().atMost(Duration.ofSeconds(10)).until(() -> client.coordination().holder("celeriac.beat.leader").isEmpty());
            CliRun r = health(cfg);
            assertThat(r.code()).isEqualTo(1);
            assertThat(beatLine(r)).startsWith("FAIL  beat: no beat is running: the last leader, " + name + ", has sent no heartbeat for");
        }
    }

    @Test
    void aMalformedScheduleIsAOneLineErrorWithExitCodeTwo() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "beat_schedule:\n  nightly:\n    task: noop\n    schedule: '0 25 * * *'\n");
        CliRun r = CliRun.of("beat", "--config", bad.toString(), "--broker", url());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).startsWith("celeriac: beat_schedule entry 'nightly': malformed cron expression '0 25 * * *'")
                .doesNotContain("\n");
    }

    @Test
    void listPrintsEachEntryWithItsNextRun() throws Exception {
        CliRun r = CliRun.of("beat", "--list", "--config", config().toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("every-3s").contains("every 3s").contains("noop").contains("next ").contains("last never");
    }
}
