package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.SendOptions;
import io.celeriac.protocol.Json;
import io.celeriac.testkit.ChildJvm;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The processes of a mixed-fleet test, in one directory: Debian's Python Celery 5.2 (workers and
 * scripts from {@code src/test/resources/interop/}) and Celeriac worker processes running
 * {@link CanvasInteropApp}. {@link #close()} stops them all.
 */
final class PythonCelery implements AutoCloseable {
    static final String PYTHON = "/usr/bin/python3";

    final Path dir;
    private final List<Process> pythons = new CopyOnWriteArrayList<>();
    private final List<ChildJvm> celeriacs = new CopyOnWriteArrayList<>();

    PythonCelery(Path dir, String... scripts) throws IOException {
        this.dir = dir;
        for (String f : scripts) {
            try (InputStream in = PythonCelery.class.getResourceAsStream("/interop/" + f)) {
                Files.write(dir.resolve(f), in.readAllBytes());
            }
        }
    }

    /** A Python program with the interop app's environment ({@code BROKER}), its output in {@code log}. */
    Process python(List<String> args, String url, Path log) throws IOException {
        return python(args, Map.of("BROKER", url), log);
    }

    /** A Python program with {@code env} added to its environment, its output in {@code log}. */
    Process python(List<String> args, Map<String, String> env, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(args).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        pb.environment().put("PYTHONPATH", dir.toString());
        pb.environment().put("C_FORCE_ROOT", "1");
        Process p = pb.start();
        pythons.add(p);
        return p;
    }

    /** {@code celery -A interop worker -Q queue -n name@%h …}. */
    Process pythonWorker(String url, String queue, String name, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of(PYTHON, "-m", "celery", "-A", "interop", "worker", "-Q", queue, "-n", name + "@%h",
                "--loglevel", "INFO"));
        args.addAll(List.of(extra));
        return python(args, url, dir.resolve(name + ".log"));
    }

    /** A Celeriac worker process running {@link CanvasInteropApp}, counting in the Redis db of {@code url}. */
    ChildJvm celeriacWorker(String url, String queue, String name, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("worker", "--broker", url, "--app", CanvasInteropApp.class.getName(), "-Q", queue,
                "-n", name, "--set", "worker_heartbeat_interval=0.5", "--loglevel", "INFO"));
        args.addAll(List.of(extra));
        ChildJvm w = ChildJvm.start(Main.class.getName(), args, Map.of("RUNS_REDIS_URL", url), dir.resolve(name + ".log"));
        celeriacs.add(w);
        return w;
    }

    /** The last line of {@code log} that is a JSON object (what the scripts print). */
    static JsonNode lastJsonLine(Path log) throws IOException {
        return Json.read(Files.readString(log).lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow(
                () -> new AssertionError("no JSON line in " + log)));
    }

    @Override
    public void close() throws InterruptedException {
        for (Process p : pythons) {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        pythons.clear();
        celeriacs.forEach(ChildJvm::close);
        celeriacs.clear();
    }

    /**
     * What a Java client sees of a Python worker running {@code interop.py}'s tasks, on any broker: a result, kwargs,
     * unicode and nested args round trip, and a countdown honoured. {@code log} is the worker's, shown when the first fails.
     */
    static void javaClientBasics(Celeriac client, Duration wait, Path log) throws IOException {
        assertThat(client.send("add", 2, 3).get(wait).asInt()).as(Files.readString(log)).isEqualTo(5);
        assertThat(client.send("add", List.of(), Map.of("x", 40, "y", 2), SendOptions.NONE).get(wait).asInt()).isEqualTo(42);
        JsonNode echo = client.send("echo", List.of("ünïcödé 🥬", Map.of("nested", List.of(1, 2.5, true, Map.of("deep", List.of("中文"))))),
                Map.of("k", "v"), SendOptions.NONE).get(wait);
        assertThat(echo.toString()).isEqualTo(
                "{\"args\":[\"ünïcödé 🥬\",{\"nested\":[1,2.5,true,{\"deep\":[\"中文\"]}]}],\"kwargs\":{\"k\":\"v\"}}");
        long t0 = System.nanoTime();
        AsyncResult later = client.send("add", List.of(1, 2), Map.of(), SendOptions.options().withCountdown(Duration.ofSeconds(2)));
        assertThat(later.get(wait).asInt()).isEqualTo(3);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(1900));
    }
}
