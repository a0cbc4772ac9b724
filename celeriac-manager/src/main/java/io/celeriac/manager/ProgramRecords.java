package io.celeriac.manager;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the manager records of each process it starts, in {@code run_dir/programs/PROCESS.json}: the
 * process and program names, the pid and the process's start time ({@link ProcessId}), how long it
 * may take to stop, and the manager that started it. Written when a process is launched, removed
 * when the manager sees it exit. A record left behind by a manager that was killed (kill -9, the OOM
 * killer) names the processes it left running, so that the next {@code status}, {@code stop},
 * {@code health} and {@code start} find them — by pid and start time, so a pid the kernel has given
 * to another process since is never signalled.
 */
public final class ProgramRecords {
    private static final Logger log = LoggerFactory.getLogger("celeriac.manager");
    public static final String DIR = "programs";

    /** One recorded process. */
    public record Entry(String process, String program, String kind, ProcessId id, Duration stopwait, ProcessId manager) {
        /** "worker (pid 1234)". */
        public String describe() {
            return process + " (pid " + id.pid() + ")";
        }
    }

    private final Path dir;

    public ProgramRecords(Path runDir) {
        this.dir = runDir.resolve(DIR);
    }

    void write(Entry e) {
        ObjectNode n = Json.NODES.objectNode();
        n.put("process", e.process());
        n.put("program", e.program());
        n.put("kind", e.kind());
        n.put("pid", e.id().pid());
        n.put("start_time", e.id().startTime());
        n.put("stopwaitsecs", e.stopwait().toMillis() / 1000.0);
        n.put("manager", e.manager().toString());
        try {
            Files.createDirectories(dir);
            Path tmp = dir.resolve("." + e.process() + ".json.tmp");
            Files.writeString(tmp, Json.write(n) + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file(e.process()), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException x) {
                Files.move(tmp, file(e.process()), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException x) {
            log.warn("cannot record {} (pid {}) in {}: {}", e.process(), e.id().pid(), dir, x.getMessage());
        }
    }

    /** Removes the record of {@code process} if it still names {@code id} (a newer process of that name keeps its own). */
    void remove(String process, ProcessId id) {
        Path f = file(process);
        try {
            JsonNode n = Json.read(Files.readString(f));
            if (n.path("pid").asLong() == id.pid()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException | RuntimeException x) {
            // gone already, or unreadable: nothing to remove
        }
    }

    boolean has(String process) {
        return Files.exists(file(process));
    }

    private Path file(String process) {
        return dir.resolve(process + ".json");
    }

    /** Every record, oldest process name first; unreadable files are skipped. */
    public List<Entry> all() {
        List<Entry> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
            for (Path f : files) {
                try {
                    JsonNode n = Json.read(Files.readString(f));
                    out.add(new Entry(n.path("process").asText(), n.path("program").asText(), n.path("kind").asText(),
                            new ProcessId(n.path("pid").asLong(), n.path("start_time").asLong()),
                            Duration.ofMillis((long) (n.path("stopwaitsecs").asDouble(60) * 1000)),
                            ProcessId.parse(n.path("manager").asText()).orElse(new ProcessId(0, 0))));
                } catch (IOException | RuntimeException x) {
                    log.debug("skipping unreadable record {}: {}", f, x.getMessage());
                }
            }
        } catch (IOException x) {
            log.debug("cannot list {}: {}", dir, x.getMessage());
        }
        out.sort(Comparator.comparing(Entry::process));
        return out;
    }

    /** The recorded processes that still run (same pid, same start time). */
    public List<Entry> live() {
        return all().stream().filter(e -> e.id().alive()).toList();
    }

    /** Removes every record (of processes that no longer run: call only without a live manager, or at its end). */
    void clear() {
        for (Entry e : all()) {
            if (!e.id().alive()) {
                remove(e.process(), e.id());
            }
        }
    }

    /**
     * Stops processes left by a manager that is gone: SIGTERM to each (a worker's warm shutdown), then,
     * for those still running after their {@code stopwaitsecs}, SIGKILL. Returns when every one has
     * exited (or is still there 10 s after SIGKILL); the records of those that exited are removed.
     * Each step is told to {@code say}. Returns those still running (normally none).
     */
    public static List<Entry> stop(ProgramRecords records, List<Entry> leftovers, Consumer<String> say) throws InterruptedException {
        if (leftovers.isEmpty()) {
            return List.of();
        }
        Duration wait = leftovers.stream().map(Entry::stopwait).max(Duration::compareTo).orElse(Duration.ZERO);
        say.accept("stopping " + leftovers.size() + " process" + (leftovers.size() == 1 ? "" : "es")
                + " left running by a manager that is gone: " + String.join(", ", leftovers.stream().map(Entry::describe).toList())
                + " (SIGTERM; SIGKILL after " + wait.toSeconds() + " s)");
        long start = System.nanoTime();
        leftovers.forEach(e -> e.id().terminate());
        List<Entry> killed = new ArrayList<>();
        List<Entry> still;
        while (true) {
            still = leftovers.stream().filter(e -> e.id().alive()).toList();
            if (still.isEmpty()) {
                break;
            }
            for (Entry e : still) {
                if (!killed.contains(e) && System.nanoTime() - start > e.stopwait().toNanos()) {
                    say.accept(e.describe() + " still running " + e.stopwait().toSeconds() + " s after SIGTERM: SIGKILL");
                    e.id().kill();
                    killed.add(e);
                }
            }
            if (killed.size() == still.size() && System.nanoTime() - start > wait.plusSeconds(10).toNanos()) {
                say.accept("still running after SIGKILL: " + String.join(", ", still.stream().map(Entry::describe).toList()));
                break;
            }
            Thread.sleep(50);
        }
        List<Entry> remaining = still;
        leftovers.stream().filter(e -> !remaining.contains(e)).forEach(e -> records.remove(e.process(), e.id()));
        return remaining;
    }
}
