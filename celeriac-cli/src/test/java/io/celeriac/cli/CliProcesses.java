package io.celeriac.cli;

import io.celeriac.testkit.ChildJvm;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The {@code celeriac} processes a test starts (workers, {@code events}, …), as real child JVMs;
 * every one still running is killed after the test. Register with {@code @RegisterExtension}.
 */
final class CliProcesses implements AfterEachCallback {
    private final List<ChildJvm> children = new CopyOnWriteArrayList<>();

    /** {@code celeriac ARGS…}, its output in {@code log}. */
    ChildJvm start(Path log, List<String> args) throws IOException {
        ChildJvm c = ChildJvm.start(Main.class.getName(), args, Map.of(), log);
        children.add(c);
        return c;
    }

    /** {@code celeriac ARGS…} in a JVM with {@code jvmOptions} too (a small {@code -Xmx}, say), its output in {@code log}. */
    ChildJvm start(List<String> jvmOptions, Path log, List<String> args) throws IOException {
        ChildJvm c = ChildJvm.start(jvmOptions, Main.class.getName(), args, Map.of(), log);
        children.add(c);
        return c;
    }

    /** A worker named {@code name} on {@code broker} with fast heartbeats, plus {@code extra} arguments; output in DIR/NAME.log. */
    ChildJvm worker(Path dir, String broker, String name, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("worker", "--broker", broker, "-n", name, "--set", "worker_heartbeat_interval=0.5"));
        args.addAll(List.of(extra));
        return start(dir.resolve(name + "-" + children.size() + ".log"), args);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        children.forEach(ChildJvm::close);
        children.clear();
    }
}
