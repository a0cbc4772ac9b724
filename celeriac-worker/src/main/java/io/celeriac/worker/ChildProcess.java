package io.celeriac.worker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.Json;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The parent's handle on one child JVM of the process pool: its pipes, a reader thread that turns
 * the child's frames (or its death) into replies, and the ways to retire or kill it.
 */
final class ChildProcess {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("celeriac.worker");
    /** Put in the reply queue when the child's stdout ends: it exited or was killed. */
    private static final ObjectNode GONE = Json.NODES.objectNode().put("op", "gone");

    final int index;
    private final Process process;
    private final DataOutputStream out;
    private final LinkedBlockingQueue<ObjectNode> replies = new LinkedBlockingQueue<>();
    private volatile boolean gone;
    /** Tasks run in this JVM. */
    int tasksRun;
    /** Tasks run since the app was last loaded afresh (see {@link AppGeneration}). */
    int generationTasks;

    private ChildProcess(int index, Process process) {
        this.index = index;
        this.process = process;
        this.out = new DataOutputStream(new BufferedOutputStream(process.getOutputStream(), 1 << 16));
        // the process's stream is buffered already: a second buffer over it made each fill of the outer one ask the
        // inner for more than it held, and the inner then asked the pipe how much was left (two system calls a frame)
        DataInputStream in = new DataInputStream(process.getInputStream());
        Thread reader = new Thread(() -> {
            try {
                ObjectNode f;
                while ((f = Frames.read(in, text -> LOG.warn("child {} (pid {}) wrote to its stdout: {}", index, process.pid(), text))) != null) {
                    replies.add(f);
                }
            } catch (IOException e) {
                // a broken pipe is a dead child, reported below
            } finally {
                gone = true;
                replies.add(GONE);
            }
        }, "celeriac-child-" + index + "-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts a child and waits until it has loaded the app; kills it if it is not ready in time. */
    static ChildProcess start(int index, List<String> command, Map<String, Object> settings, Duration aliveTimeout)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        ChildProcess c = new ChildProcess(index, p);
        ObjectNode init = Json.NODES.objectNode();
        init.put("op", "init");
        init.put("index", index);
        init.set("settings", Json.toTree(settings));
        try {
            c.send(init);
        } catch (IOException e) {
            c.kill(Duration.ZERO);
            throw new IOException("child " + index + " died at start (" + c.exitDescription() + ")");
        }
        ObjectNode ready;
        try {
            ready = c.await(aliveTimeout);
        } catch (InterruptedException e) {
            c.kill(Duration.ZERO); // the pool is closing: a child half started must not outlive it
            throw e;
        }
        if (ready == null || !"ready".equals(ready.path("op").asText())) {
            if (ready != null && isGone(ready)) {
                c.process.waitFor(2, TimeUnit.SECONDS); // let it finish dying, to report how
            }
            c.kill(Duration.ZERO);
            throw new IOException("child " + index + (ready == null ? " was not ready within " + aliveTimeout.toSeconds() + " s"
                    : isGone(ready) ? " died at start (" + c.exitDescription() + "); see its error above"
                    : " sent " + ready + " instead of ready"));
        }
        return c;
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return !gone && process.isAlive();
    }

    void send(ObjectNode frame) throws IOException {
        send(frame, null);
    }

    void send(ObjectNode frame, String payload) throws IOException {
        synchronized (out) {
            Frames.write(out, frame, payload);
        }
    }

    /** The next reply, {@link #isGone} if the child died, or null when {@code timeout} passes first (zero: no time-out). */
    ObjectNode await(Duration timeout) throws InterruptedException {
        return timeout.isZero() ? replies.take() : replies.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    static boolean isGone(ObjectNode reply) {
        return reply == GONE;
    }

    /** Asks an idle child to exit when it has nothing to do. */
    void retire() {
        try {
            send(Json.NODES.objectNode().put("op", "exit"));
        } catch (IOException e) {
            kill(Duration.ZERO);
        }
    }

    /** SIGTERM, then SIGKILL after {@code grace} (at once when zero). */
    void kill(Duration grace) {
        if (!grace.isZero()) {
            process.destroy();
            try {
                if (process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    boolean waitForExit(Duration d) throws InterruptedException {
        return process.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** "exit code 1", or "signal 9 (SIGKILL)" as Celery words it. */
    String exitDescription() {
        try {
            process.waitFor(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (process.isAlive()) {
            return "still running";
        }
        int code = process.exitValue();
        if (code > 128 && code < 160) {
            int sig = code - 128;
            String name = switch (sig) {
                case 9 -> "SIGKILL";
                case 15 -> "SIGTERM";
                case 6 -> "SIGABRT";
                case 11 -> "SIGSEGV";
                default -> "signal " + sig;
            };
            return "signal " + sig + " (" + name + ")";
        }
        return "exit code " + code;
    }

    /** Resident memory in KiB (Linux /proc), or -1 where it cannot be read. */
    long rssKib() {
        return rssKib(process.pid());
    }

    /** Resident memory of any process in KiB (Linux /proc), or -1 where it cannot be read. */
    static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux, or the child is gone
        }
        return -1;
    }
}
