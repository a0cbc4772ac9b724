package io.celeriac.cli;

import io.celeriac.testkit.ChildJvm;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.concurrent.Callable;
import org.awaitility.core.ConditionFactory;
import org.awaitility.core.ConditionTimeoutException;
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
    private final List<AutoCloseable> resources = new CopyOnWriteArrayList<>();

    /** {@code resource}, closed after the test (after the children are killed; the last added first). */
    <T extends AutoCloseable> T closeAfter(T resource) {
        resources.add(resource);
        return resource;
    }

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

    /**
     * Waits with {@code wait} until {@code condition} holds; on time-out fails with the end (6,000
     * characters) of each child's output, which is where a process test's cause shows.
     */
    static void until(ConditionFactory wait, Collection<ChildJvm> children, Callable<Boolean> condition) {
        try {
            wait.until(condition);
        } catch (ConditionTimeoutException e) {
            StringBuilder sb = new StringBuilder(e.getMessage());
            for (ChildJvm c : children) {
                String out = c.output();
                sb.append("\n--- process ").append(c.pid()).append(" output:\n").append(out.length() > 6000 ? out.substring(out.length() - 6000) : out);
            }
            throw new AssertionError(sb.toString(), e);
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        children.forEach(ChildJvm::close);
        children.clear();
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
        resources.clear();
    }
}
