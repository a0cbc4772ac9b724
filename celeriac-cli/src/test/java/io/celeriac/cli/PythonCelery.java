package io.celeriac.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.protocol.Json;
import io.celeriac.testkit.ChildJvm;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
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
        ProcessBuilder pb = new ProcessBuilder(args).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("BROKER", url);
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
}
