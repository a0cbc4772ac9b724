package io.celeriac.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The archive as a user gets it: unpacked by a real {@code tar} into an empty directory and run
 * from other empty directories, with an environment that names no source tree (PATH of the system
 * only, no CELERIAC_CLASSPATH, HOME a temporary directory), Java found through JAVA_HOME.
 */
@Timeout(600)
class DistributionIT {
    @TempDir
    static Path unpacked;
    @TempDir
    Path dir;

    static Path home;

    record Result(int code, String output) {
    }

    @BeforeAll
    static void unpack() throws Exception {
        Path archive = Path.of(System.getProperty("celeriac.dist.archive"));
        assertThat(archive).exists();
        Result tar = run(List.of("tar", "xzf", archive.toString()), unpacked, Map.of(), 120);
        assertThat(tar.code()).as(tar.output()).isZero();
        home = unpacked.resolve(System.getProperty("celeriac.dist.name"));
        assertThat(Files.getPosixFilePermissions(home.resolve("bin/celeriac"))).contains(PosixFilePermission.OTHERS_EXECUTE);
        assertThat(home.resolve("conf/celeriac.yaml")).exists();
        assertThat(home.resolve("examples/celeriac-examples.jar")).exists();
        assertThat(home.resolve("docs/README.md")).exists();
        try (var jars = Files.list(home.resolve("lib"))) {
            assertThat(jars.map(p -> p.getFileName().toString())).anyMatch(n -> n.startsWith("io.celeriac.celeriac-cli-"))
                    .noneMatch(n -> n.contains("celeriac-examples"));
        }
    }

    /** A process with nothing of the build's environment: the system's PATH, a temporary HOME, JAVA_HOME. */
    static Result run(List<String> cmd, Path cwd, Map<String, String> extra, int seconds) throws IOException, InterruptedException {
        Process p = start(cmd, cwd, extra);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(seconds, TimeUnit.SECONDS)).as(out).isTrue();
        return new Result(p.exitValue(), out);
    }

    static Process start(List<String> cmd, Path cwd, Map<String, String> extra) throws IOException {
        ProcessBuilder b = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
        Map<String, String> env = b.environment();
        env.clear();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", unpacked.resolve("home").toString());
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.putAll(extra);
        return b.start();
    }

    private Path emptyDir(String name) throws IOException {
        return Files.createDirectories(dir.resolve(name));
    }

    private static String celeriac() {
        return home.resolve("bin/celeriac").toString();
    }

    @Test
    void demoRunsToItsEndFromTheUnpackedArchive() throws Exception {
        Result demo = run(List.of(celeriac(), "demo"), emptyDir("cwd"), Map.of(), 300);
        assertThat(demo.code()).as(demo.output()).isZero();
        assertThat(demo.output()).contains("results as they finish").contains("Every task ended as expected.")
                .contains("beat sent scrape_all_sources");
    }

    @Test
    void theLauncherWorksThroughASymlinkAndSaysSoWithoutJava() throws Exception {
        Path bin = emptyDir("bin");
        Files.createSymbolicLink(bin.resolve("celeriac"), home.resolve("bin/celeriac"));
        Result version = run(List.of(bin.resolve("celeriac").toString(), "--version"), emptyDir("cwd"), Map.of(), 60);
        assertThat(version.code()).as(version.output()).isZero();
        Result noJava = run(List.of(bin.resolve("celeriac").toString(), "--version"), emptyDir("cwd2"),
                Map.of("JAVA_HOME", dir.resolve("no-java").toString()), 60);
        assertThat(noJava.code()).isEqualTo(2);
        assertThat(noJava.output().strip()).hasLineCount(1).startsWith("celeriac: no Java found");
    }

    private Path config(Path cwd) throws IOException {
        return Files.writeString(cwd.resolve("celeriac.yaml"), String.join("\n",
                "broker_url: sqlite:" + cwd.resolve("celeriac.db"),
                "log_dir: " + cwd.resolve("logs"),
                "run_dir: " + cwd.resolve("run"),
                "health_check_interval: 0",
                "programs:",
                "  worker: {kind: worker, concurrency: 1, pool: threads}",
                ""));
    }

    @Test
    void generatedSystemdUnitsRunTheInstalledLauncherAndPassSystemdAnalyze() throws Exception {
        Path cwd = emptyDir("app");
        Path conf = config(cwd);
        String examples = home.resolve("examples/celeriac-examples.jar").toString();
        Result gen = run(List.of(celeriac(), "generate", "systemd", "-o", "units", "--config", conf.toString()), cwd,
                Map.of("CELERIAC_CLASSPATH", examples), 60);
        assertThat(gen.code()).as(gen.output()).isZero();
        Path unit = cwd.resolve("units/celeriac-worker.service");
        String text = Files.readString(unit);
        assertThat(text).contains("ExecStart=" + home.resolve("bin/celeriac") + " worker -n worker ")
                .contains("--config " + conf)
                .contains("Environment=CELERIAC_CLASSPATH=" + examples)
                .contains("WorkingDirectory=" + cwd)
                .contains("User=celeriac")
                .contains("Runs the installed Celeriac at " + home)
                .doesNotContain("java -cp").doesNotContain("target/");
        Result verify = run(List.of("systemd-analyze", "verify", unit.toString()), cwd, Map.of(), 60);
        assertThat(verify.code()).as(verify.output()).isZero();
        assertThat(verify.output()).doesNotContain("celeriac-worker.service:");
    }

    @Test
    void theRealSupervisordRunsTheInstalledLauncherAndItsWorkerWorks() throws Exception {
        Path cwd = emptyDir("app");
        Path conf = config(cwd);
        Files.createDirectories(cwd.resolve("logs"));
        String examples = home.resolve("examples/celeriac-examples.jar").toString();
        Result gen = run(List.of(celeriac(), "generate", "supervisord", "-o", "sup", "--config", conf.toString()), cwd,
                Map.of("CELERIAC_CLASSPATH", examples), 60);
        assertThat(gen.code()).as(gen.output()).isZero();
        Path sup = cwd.resolve("sup/supervisord.conf");
        assertThat(Files.readString(sup)).contains("command=" + home.resolve("bin/celeriac") + " worker -n worker ")
                .contains("CELERIAC_CLASSPATH=\"" + examples + "\"");
        Result started = run(List.of("supervisord", "-c", sup.toString()), cwd, Map.of(), 60);
        assertThat(started.code()).as(started.output()).isZero();
        try {
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() ->
                    run(List.of("supervisorctl", "-c", sup.toString(), "status"), cwd, Map.of(), 30).output()
                            .matches("(?s).*worker\\s+RUNNING.*"));
            Result call = run(List.of(celeriac(), "call", "add", "2", "3", "--wait", "60", "--config", conf.toString()), cwd,
                    Map.of(), 90);
            assertThat(call.code()).as(call.output()).isZero();
            // call prints the task id, then the result
            assertThat(call.output().strip().lines().toList()).as(call.output()).last().isEqualTo("5");
        } finally {
            run(List.of("supervisorctl", "-c", sup.toString(), "shutdown"), cwd, Map.of(), 60);
        }
    }

    /**
     * A user's project (src/it/user-project): the installed BOM imported, the client and the SQLite
     * broker as dependencies, its own {@code add}. Built with the repository's ./mvnw against ~/.m2
     * (./mvnw install put the artifacts there); its jar is the only app of a worker run from the archive.
     */
    @Test
    void aUserProjectBuiltOnTheBomRunsItsOwnAddOnTheInstalledWorker() throws Exception {
        Path project = dir.resolve("user-project");
        copy(Path.of(System.getProperty("celeriac.it.project")), project);
        Path repo = Path.of(System.getProperty("celeriac.repo")).toAbsolutePath().normalize();
        List<String> mvn = new ArrayList<>(List.of(repo.resolve("mvnw").toString(), "-B", "-q", "package",
                "-Dceleriac.version=" + System.getProperty("celeriac.version"),
                "-Dmaven.repo.local=" + System.getProperty("user.home") + "/.m2/repository"));
        Result build = run(mvn, project, Map.of("HOME", System.getProperty("user.home")), 300);
        assertThat(build.code()).as(build.output()).isZero();
        Path jar = project.resolve("target/adder-1.0.jar");
        assertThat(jar).exists();

        Path cwd = emptyDir("app");
        String broker = "sqlite:" + cwd.resolve("celeriac.db");
        Map<String, String> env = Map.of("CELERIAC_CLASSPATH", jar.toString(), "CELERIAC_BROKER_URL", broker);
        Process worker = start(List.of(celeriac(), "worker", "-n", "adder", "-P", "threads", "-c", "1"), cwd, env);
        try {
            Result sent = run(List.of(System.getProperty("java.home") + "/bin/java", "-cp",
                    jar + File.pathSeparator + home.resolve("lib") + "/*", "com.example.adder.SendAdd", "2", "3"), cwd,
                    Map.of("CELERIAC_BROKER_URL", broker), 120);
            assertThat(sent.code()).as(sent.output()).isZero();
            assertThat(sent.output().strip().lines().reduce((a, b) -> b).orElse("")).isEqualTo("adder says 5");
            Result registered = run(List.of(celeriac(), "inspect", "registered", "--broker", broker), cwd, Map.of(), 60);
            assertThat(registered.code()).as(registered.output()).isZero();
            assertThat(registered.output()).contains("add").doesNotContain("noop").doesNotContain("scrape_all_sources");
        } finally {
            worker.destroy();
            assertThat(worker.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        try (var files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path t = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(t);
                } else if (!f.toString().contains("/target/")) {
                    Files.copy(f, t);
                }
            }
        }
    }
}
