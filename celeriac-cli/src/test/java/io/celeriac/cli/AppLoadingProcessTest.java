package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.SendOptions;
import io.celeriac.TaskRegistry;
import io.celeriac.TaskState;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.TaskResult;
import io.celeriac.testkit.ChildJvm;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker loads the user's app only: real worker processes whose class path lacks the example
 * app (celeriac.jar does not carry it), and {@code demo} finding it where the distribution installs it.
 */
@Tag("integration")
@Timeout(180)
class AppLoadingProcessTest {
    /** Every class path entry but the example app's (its jar, or its classes in a reactor build). */
    private static final Predicate<String> WITHOUT_EXAMPLES = e -> !isExamples(e);

    @TempDir
    Path dir;

    private final List<ChildJvm> children = new ArrayList<>();

    @AfterEach
    void kill() {
        children.forEach(ChildJvm::close);
    }

    private static boolean isExamples(String entry) {
        String e = entry.replace(File.separatorChar, '/');
        return e.contains("celeriac-examples") || e.contains("/examples/target/");
    }

    private String url() {
        return "sqlite:" + dir.resolve("apps.db");
    }

    private ChildJvm start(List<String> jvmOptions, String name, String... args) throws IOException {
        ChildJvm c = ChildJvm.start(WITHOUT_EXAMPLES, jvmOptions, Main.class.getName(), List.of(args), Map.of(), dir.resolve(name + ".log"));
        children.add(c);
        return c;
    }

    @Test
    void aUserAppWithItsOwnAddRunsItWithoutTheExampleApp() throws Exception {
        ChildJvm worker = start(List.of(), "worker", "worker", "--broker", url(), "-n", "own@test", "--pool", "threads",
                "--app", OwnAddApp.class.getName());
        try (Celeriac app = Celeriac.open(Config.builder().set(Settings.BROKER_URL, url()).build(), new TaskRegistry())) {
            AsyncResult sent = app.send("add", List.of(2, 3), Map.of(), SendOptions.NONE);
            TaskResult r = app.results().await(sent.id(), Duration.ofSeconds(90)).orElse(null);
            assertThat(r).as(worker.output()).isNotNull();
            assertThat(r.state()).as(worker.output()).isEqualTo(TaskState.SUCCESS);
            assertThat(r.result().asText()).isEqualTo("own 5");
        }
        assertThat(worker.output()).contains("  . add").doesNotContain("scrape_all_sources").doesNotContain("registered twice");
    }

    @Test
    void processPoolChildrenLoadTheUsersAppAndTheWorkerRegistersNoExampleTask() throws Exception {
        String node = "pool@test";
        ChildJvm worker = start(List.of(), "pool", "worker", "--broker", url(), "-n", node, "--pool", "process", "-c", "1",
                "--app", OwnAddApp.class.getName(), "--set", "worker_heartbeat_interval=0.5");
        try (Celeriac app = Celeriac.open(Config.builder().set(Settings.BROKER_URL, url()).build(), new TaskRegistry())) {
            AsyncResult add = app.send("add", List.of(2, 3), Map.of(), SendOptions.NONE);
            AsyncResult noop = app.send("noop", List.of(), Map.of(), SendOptions.NONE);
            TaskResult r = app.results().await(add.id(), Duration.ofSeconds(90)).orElse(null);
            assertThat(r).as(worker.output()).isNotNull();
            assertThat(r.state()).as(worker.output()).isEqualTo(TaskState.SUCCESS);
            assertThat(r.result().asText()).isEqualTo("own 5"); // run in a pool child: it loaded the same app
            TaskResult missing = app.results().await(noop.id(), Duration.ofSeconds(90)).orElse(null);
            assertThat(missing).as(worker.output()).isNotNull();
            assertThat(missing.state()).isEqualTo(TaskState.FAILURE);
            assertThat(missing.exception().type()).isEqualTo("NotRegistered");
        }
        CliRun registered = CliRun.of("inspect", "registered", "--broker", url(), "-d", node);
        assertThat(registered.code()).as(registered.err()).isZero();
        assertThat(registered.out()).contains("-> " + node + ": OK", "* add").doesNotContain("noop", "scrape_all_sources", "* sleep");
    }

    @Test
    void aWorkerWithNoAppSaysHowToNameOneInOneLine() throws Exception {
        ChildJvm worker = start(List.of(), "bare", "worker", "--broker", url(), "-n", "bare@test");
        assertThat(worker.waitFor(60)).isTrue();
        assertThat(worker.exitCode()).as(worker.output()).isEqualTo(2);
        assertThat(worker.output().strip()).isEqualTo("celeriac: " + WorkerCommand.NO_APP);
        assertThat(WorkerCommand.NO_APP).contains("-A/--app CLASS").contains("CELERIAC_CLASSPATH").contains("celeriac demo");
    }

    @Test
    void callWithNoAppSendsByNameAndTheUsersWorkerRunsIt() throws Exception {
        ChildJvm call = start(List.of(), "call", "call", "--broker", url(), "add", "4", "5", "--wait", "90");
        ChildJvm worker = start(List.of(), "worker", "worker", "--broker", url(), "-n", "own@test", "--pool", "threads",
                "--app", OwnAddApp.class.getName());
        assertThat(call.waitFor(120)).as(call.output() + worker.output()).isTrue();
        assertThat(call.exitCode()).as(call.output() + worker.output()).isZero();
        assertThat(call.output()).contains("own 9");
    }

    @Test
    void theDemoFindsTheExampleAppInCeleriacHomeAndHandsItToItsProcesses() throws Exception {
        Path home = dir.resolve("home");
        Files.createDirectories(home.resolve("examples"));
        copyExamplesJar(home.resolve("examples/celeriac-examples.jar"));
        ChildJvm demo = start(List.of("-Dceleriac.home=" + home), "demo", "demo", "--broker", url(),
                "--set", "worker_concurrency=2", "--set", "dashboard_port=0", "--set", "run_dir=" + dir.resolve("run"),
                "--set", "log_dir=" + dir.resolve("logs"));
        assertThat(demo.waitFor(150)).as(demo.output()).isTrue();
        assertThat(demo.exitCode()).as(demo.output()).isZero();
        assertThat(demo.output()).contains("SUCCESS  5").contains("FactCheckError: source unreachable")
                .contains("Every task ended as expected.");
    }

    /** The example app's jar from the test class path (or its classes made into one, in a reactor build). */
    private static void copyExamplesJar(Path to) throws IOException {
        String entry = Arrays.stream(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))
                .split(File.pathSeparator)).filter(AppLoadingProcessTest::isExamples).findFirst().orElseThrow();
        Path from = Path.of(entry);
        if (Files.isRegularFile(from)) {
            Files.copy(from, to);
            return;
        }
        try (OutputStream out = Files.newOutputStream(to); JarOutputStream jar = new JarOutputStream(out);
                Stream<Path> files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                jar.putNextEntry(new JarEntry(from.relativize(f).toString().replace(File.separatorChar, '/')));
                Files.copy(f, jar);
                jar.closeEntry();
            }
        }
    }
}
